package simkit_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit"
)

func TestRecorderKeepsTheNewest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		limit int
		adds  int
		want  []string
	}{
		{"under the limit", 5, 3, []string{"/0", "/1", "/2"}},
		{"over the limit", 2, 5, []string{"/3", "/4"}},
		{"limit 1", 1, 4, []string{"/3"}},
		{"limit 0 keeps none", 0, 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := simkit.NewRecorder(tc.limit)
			for i := range tc.adds {
				r.Add(simkit.Recorded{Path: "/" + strconv.Itoa(i), Status: 200})
			}
			var got []string
			for _, rec := range r.Requests() {
				got = append(got, rec.Path)
			}
			require.Equal(t, tc.want, got)
			r.Reset()
			require.Empty(t, r.Requests())
		})
	}
}

func TestRecorderBoundsBodies(t *testing.T) {
	t.Parallel()
	r := simkit.NewRecorder(100)
	big := bytes.Repeat([]byte("x"), simkit.MaxRecordBytes/2+1)
	for i := range 3 {
		r.Add(simkit.Recorded{Path: "/" + strconv.Itoa(i), Body: big})
	}
	recs := r.Requests()
	require.Len(t, recs, 1, "bodies past MaxRecordBytes push out the oldest calls")
	require.Equal(t, "/2", recs[0].Path)
	r.Add(simkit.Recorded{Path: "/gone", Status: simkit.StatusClientClosed})
	require.Len(t, r.Requests(), 1, "an abandoned call is not kept")
}

func TestCaptureRecordsWhatWasSent(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	c := simkit.NewCapture(w)
	c.Header().Set("Content-Type", "application/json")
	c.WriteHeader(http.StatusCreated)
	c.WriteHeader(http.StatusTeapot) // ignored, as net/http does
	_, err := c.Write([]byte(`{"id":1}`))
	require.NoError(t, err)
	c.Header().Set("X-Late", "not sent")

	req := httptest.NewRequest(http.MethodPost, "/api/things?x=1", nil)
	req.Header.Set("Authorization", "secret")
	rec := c.Recorded(req, []byte(`{"a":1}`))
	require.Equal(t, http.StatusCreated, w.Code)
	require.Equal(t, `{"id":1}`, w.Body.String())
	require.Equal(t, http.MethodPost, rec.Method)
	require.Equal(t, "/api/things", rec.Path)
	require.Equal(t, "x=1", rec.RawQuery)
	require.Equal(t, "secret", rec.Header.Get("Authorization"))
	require.Equal(t, `{"a":1}`, string(rec.Body))
	require.Equal(t, http.StatusCreated, rec.Status)
	require.Equal(t, "application/json", rec.ResponseHeader.Get("Content-Type"))
	require.Empty(t, rec.ResponseHeader.Get("X-Late"), "headers as sent")
	require.Equal(t, `{"id":1}`, string(rec.ResponseBody))
	require.False(t, rec.At.IsZero())
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	b, err := simkit.ReadBody(httptest.NewRequest(http.MethodPost, "/", strings.NewReader("abc")))
	require.NoError(t, err)
	require.Equal(t, "abc", string(b))
	_, err = simkit.ReadBody(httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, simkit.MaxBody+1))))
	require.ErrorIs(t, err, simkit.ErrBodyTooLarge)
}

func TestMeter(t *testing.T) {
	t.Parallel()
	var m simkit.Meter
	m.ReadOrWrite(http.MethodGet)
	m.ReadOrWrite(http.MethodPatch)
	m.Answered(http.StatusOK, false)
	m.Answered(http.StatusTooManyRequests, false)
	m.Answered(http.StatusBadGateway, false)
	m.Answered(http.StatusOK, true)
	require.Equal(t, simkit.Stats{Reads: 1, Writes: 1, Requests: 4, Throttled: 1, Errors: 2}, m.Stats())
	m.Reset()
	require.Equal(t, simkit.Stats{}, m.Stats())
}
