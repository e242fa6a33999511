package psa_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

func TestSenderBoundsTheAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		tooBig  bool
		declare bool
	}{
		{"under the bound", 99, false, true},
		{"at the bound", 100, false, true},
		{"one byte over", 101, true, true},
		{"over, chunked", 5000, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.Equal(t, "yes", r.Header.Get("X-Vendor"))
				if !tt.declare {
					w.Header().Set("Transfer-Encoding", "chunked")
				}
				_, _ = w.Write([]byte(strings.Repeat("x", tt.size)))
			}))
			t.Cleanup(srv.Close)
			s := psa.NewSender("test", 0, psa.WithMaxAnswer(100))
			ans, err := s.Send(t.Context(), "test: get", psa.Request{Method: http.MethodGet, URL: srv.URL, Header: http.Header{"X-Vendor": {"yes"}}})
			if !tt.tooBig {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, ans.Status)
				require.Len(t, ans.Body, tt.size)
				return
			}
			require.ErrorIs(t, err, psa.ErrInvalid)
			require.True(t, psa.IsAnswerTooLarge(err))
			require.Contains(t, err.Error(), "100-byte limit")
			if tt.declare {
				require.Contains(t, err.Error(), "answer of 101 bytes")
			}
		})
	}
}

func TestSenderUnreachableIsAConnectionError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := psa.NewSender("test", 0).Send(t.Context(), "test: get", psa.Request{Method: http.MethodGet, URL: url})
	require.ErrorIs(t, err, psa.ErrConnection)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "test: get", pe.Op)
}

func TestContactFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range append([]psa.Field{psa.FieldExternalID}, psa.CanonicalFields...) {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			v := "value of " + string(f)
			if f == psa.FieldInactive {
				v = "true"
			}
			var c psa.Contact
			require.True(t, c.Set(f, v))
			require.Equal(t, v, c.Get(f))
			require.True(t, psa.IsField(string(f)))
		})
	}
	var c psa.Contact
	require.False(t, c.Set("nickname", "x"))
	require.Empty(t, c.Get("nickname"))
	require.Equal(t, "false", c.Get(psa.FieldInactive))
}
