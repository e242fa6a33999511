package autotask

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// TestClassify covers answers the simulator does not produce on its own.
func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		kind       error
		message    string
		retryAfter time.Duration
	}{
		{"success", 200, nil, `{"item":{"id":1}}`, nil, "", 0},
		{"empty errors array is a success", 200, nil, `{"items":[],"errors":[]}`, nil, "", 0},
		{"error objects with a message", 500, nil, `{"errors":[{"message":"firstName is required."},{"message":"lastName is required."}]}`, psa.ErrInvalid, "firstName is required.; lastName is required.", 0},
		{"409", 409, nil, `{"errors":["conflict"]}`, psa.ErrDuplicate, "conflict", 0},
		{"already exists text", 500, nil, `{"errors":["A contact with this email already exists."]}`, psa.ErrDuplicate, "", 0},
		{"502 with an errors array", 502, nil, `{"errors":["bad gateway"]}`, psa.ErrConnection, "bad gateway", 0},
		{"plain text 500", 500, nil, `Service Unavailable`, psa.ErrConnection, "", 0},
		{"ASP.NET Message", 500, nil, `{"Message":"An error has occurred."}`, psa.ErrConnection, "An error has occurred.", 0},
		{"Retry-After as a date", 429, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, ``, psa.ErrRateLimited, "", 90 * time.Second},
		{"security level text", 200, nil, `{"errors":["The security level of the user does not allow this."]}`, psa.ErrPermission, "", 0},
		{"thread limit text inside a 200", 200, nil, `{"errors":["API thread threshold of 3 threads has been exceeded"]}`, psa.ErrRateLimited, "", ThreadLimitRetryAfter},
		{"418", 418, nil, ``, psa.ErrInvalid, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ans := psa.Answer{Status: tc.status, Header: tc.header, Body: []byte(tc.body)}
			if ans.Header == nil {
				ans.Header = http.Header{}
			}
			e := classify("autotask: test", ans, now)
			if tc.kind == nil {
				require.Nil(t, e)
				return
			}
			require.NotNil(t, e)
			require.ErrorIs(t, e, tc.kind)
			require.Equal(t, tc.status, e.StatusCode)
			require.Equal(t, tc.retryAfter, e.RetryAfter)
			if tc.message != "" {
				require.Equal(t, tc.message, e.Message)
			}
		})
	}
}
