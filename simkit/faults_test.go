package simkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit"
)

func TestFaultMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		f                    simkit.Fault
		method, path, tenant string
		want                 bool
	}{
		{"zero matches anything", simkit.Fault{}, "GET", "/x", "", true},
		{"method ignores case", simkit.Fault{Method: "post"}, "POST", "/x", "", true},
		{"other method", simkit.Fault{Method: "GET"}, "POST", "/x", "", false},
		{"path ignores case", simkit.Fault{PathContains: "/contacts"}, "GET", "/api/Contacts/1", "", true},
		{"other path", simkit.Fault{PathContains: "/users"}, "GET", "/api/Contacts", "", false},
		{"tenant", simkit.Fault{Tenant: "t1"}, "GET", "/x", "t1", true},
		{"other tenant", simkit.Fault{Tenant: "t1"}, "GET", "/x", "t2", false},
		{"a tenant fault misses a sim without tenants", simkit.Fault{Tenant: "t1"}, "GET", "/x", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.f.Matches(tc.method, tc.path, tc.tenant))
		})
	}
}

func TestStrikeUsesUpCountsInOrder(t *testing.T) {
	t.Parallel()
	var l simkit.Faults
	l.InjectFault(simkit.Fault{Status: 429, Count: 2})
	l.InjectFault(simkit.Fault{Status: 500})
	var got []int
	for range 4 {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		c := simkit.NewCapture(httptest.NewRecorder())
		f, ok := simkit.Strike(&l, c, r, simkit.Matching(r, ""))
		require.True(t, ok)
		require.True(t, c.Injected)
		got = append(got, f.Status)
	}
	require.Equal(t, []int{429, 429, 500, 500}, got, "the first fault until used up, then the next, unlimited")
	l.ClearFaults()
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	_, ok := simkit.Strike(&l, simkit.NewCapture(httptest.NewRecorder()), r, simkit.Matching(r, ""))
	require.False(t, ok)
}

func TestStrikeLatency(t *testing.T) {
	t.Parallel()
	var l simkit.Faults
	l.InjectFault(simkit.Fault{Latency: 50 * time.Millisecond, Count: 1})
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	c := simkit.NewCapture(httptest.NewRecorder())
	start := time.Now()
	_, ok := simkit.Strike(&l, c, r, simkit.Matching(r, ""))
	require.False(t, ok, "a latency-only fault lets the request through")
	require.False(t, c.Abandoned())
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	l.InjectFault(simkit.Fault{Status: 503, Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r = httptest.NewRequestWithContext(ctx, http.MethodGet, "/x", nil)
	c = simkit.NewCapture(httptest.NewRecorder())
	_, ok = simkit.Strike(&l, c, r, simkit.Matching(r, ""))
	require.False(t, ok)
	require.True(t, c.Abandoned(), "a client that leaves during the delay is not answered")
	require.Equal(t, simkit.StatusClientClosed, c.Status())
}

func TestWriteRaw(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	require.False(t, simkit.Fault{Status: 429, RetryAfter: "2"}.WriteRaw(w, "application/json"))
	require.Equal(t, "2", w.Header().Get("Retry-After"), "set even when the simulator writes the body")

	w = httptest.NewRecorder()
	require.True(t, simkit.Fault{Status: 502, Body: "<html>bad gateway</html>"}.WriteRaw(w, "text/html"))
	require.Equal(t, 502, w.Code)
	require.Equal(t, "text/html", w.Header().Get("Content-Type"))
	require.Equal(t, "<html>bad gateway</html>", w.Body.String())
}
