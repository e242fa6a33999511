package cwsim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.InjectFault(cwsim.Fault{Method: http.MethodGet, PathContains: "/company/contacts", Status: 429, RetryAfter: "2.128", Count: 2})
	b.sim.InjectFault(cwsim.Fault{Method: http.MethodPost, Status: 503})

	for range 2 {
		a := b.call(http.MethodGet, "/company/contacts", "")
		require.Equal(t, http.StatusTooManyRequests, a.status)
		require.Equal(t, "2.128", a.header.Get("Retry-After"))
		code, _ := a.vendorError(t)
		require.Equal(t, "TooManyRequests", code)
	}
	require.Equal(t, http.StatusOK, b.call(http.MethodGet, "/company/contacts", "").status, "count used up")
	require.Equal(t, http.StatusOK, b.call(http.MethodGet, "/system/info", "").status, "path does not match")
	for range 3 {
		require.Equal(t, http.StatusServiceUnavailable, b.call(http.MethodPost, "/company/contacts", `{"firstName":"A","company":{"id":1}}`).status)
	}
	b.sim.ClearFaults()
	require.Equal(t, http.StatusCreated, b.call(http.MethodPost, "/company/contacts", `{"firstName":"A","company":{"id":1}}`).status)

	b.sim.InjectFault(cwsim.Fault{Status: 502, Body: "<html>Bad Gateway</html>", Count: 1})
	a := b.call(http.MethodGet, "/system/info", "")
	require.Equal(t, http.StatusBadGateway, a.status)
	require.Equal(t, "<html>Bad Gateway</html>", string(a.body))
	require.True(t, strings.HasPrefix(a.header.Get("Content-Type"), "text/html"))

	st := b.sim.Stats()
	require.Equal(t, cwsim.Stats{Reads: 5, Writes: 4, Requests: 9, Throttled: 2, Errors: 4}, st)
	recs := b.sim.Requests()
	require.Len(t, recs, 9)
	require.True(t, recs[0].Injected)
	require.False(t, recs[2].Injected)
}

func TestFaultsAndStatsOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	none := http.Header{}
	a := b.raw(http.MethodPost, "/_sim/faults", `{"method":"GET","path_contains":"/system/info","status":429,"retry_after":"1","count":1}`, none)
	require.Equal(t, http.StatusNoContent, a.status, string(a.body))
	a = b.call(http.MethodGet, "/system/info", "")
	require.Equal(t, http.StatusTooManyRequests, a.status)
	require.Equal(t, "1", a.header.Get("Retry-After"))
	require.Equal(t, http.StatusOK, b.call(http.MethodGet, "/system/info", "").status)

	a = b.raw(http.MethodPost, "/_sim/faults", `{"latency_ms":150,"count":1}`, none)
	require.Equal(t, http.StatusNoContent, a.status)
	start := time.Now()
	require.Equal(t, http.StatusOK, b.call(http.MethodGet, "/system/info", "").status)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	a = b.raw(http.MethodPost, "/_sim/faults", `{"status":500}`, none)
	require.Equal(t, http.StatusNoContent, a.status)
	require.Equal(t, http.StatusInternalServerError, b.call(http.MethodGet, "/system/info", "").status)
	require.Equal(t, http.StatusNoContent, b.raw(http.MethodDelete, "/_sim/faults", "", none).status)
	require.Equal(t, http.StatusOK, b.call(http.MethodGet, "/system/info", "").status)

	for _, bad := range []string{`{"status":200}`, `{}`, `{"stat":429}`, `nope`} {
		require.Equal(t, http.StatusBadRequest, b.raw(http.MethodPost, "/_sim/faults", bad, none).status, bad)
	}

	a = b.raw(http.MethodGet, "/_sim/stats", "", none)
	require.Equal(t, http.StatusOK, a.status)
	var st map[string]int
	a.json(t, &st)
	require.Equal(t, map[string]int{"reads": 5, "writes": 0, "requests": 5, "throttled": 1, "errors": 1}, st)
	require.Equal(t, http.StatusNoContent, b.raw(http.MethodDelete, "/_sim/stats", "", none).status)
	require.Equal(t, cwsim.Stats{}, b.sim.Stats())
	require.Equal(t, http.StatusNotFound, b.raw(http.MethodGet, "/_sim/nothing", "", none).status)
	require.Len(t, b.sim.Requests(), 5, "_sim calls are not recorded")
}

func TestLatencyGivesWayToCancellation(t *testing.T) {
	t.Parallel()
	b := setup(t, cwsim.WithLatency(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.sim.BaseURL()+cwsim.APIPath+"/system/info", nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestRecording(t *testing.T) {
	t.Parallel()
	b := setup(t, cwsim.WithRecordLimit(2))
	b.call(http.MethodGet, "/system/info", "")
	b.call(http.MethodGet, "/company/contacts?pageSize=5", "")
	b.call(http.MethodPost, "/company/contacts", `{"firstName":"A","company":{"id":1}}`)
	recs := b.sim.Requests()
	require.Len(t, recs, 2)
	require.Equal(t, cwsim.APIPath+"/company/contacts", recs[0].Path)
	require.Equal(t, "pageSize=5", recs[0].RawQuery)
	require.Equal(t, http.MethodPost, recs[1].Method)
	require.JSONEq(t, `{"firstName":"A","company":{"id":1}}`, string(recs[1].Body))
	require.Equal(t, http.StatusCreated, recs[1].Status)
	require.Contains(t, string(recs[1].ResponseBody), `"firstName":"A"`)
	require.Equal(t, cwsim.DefaultClientID, recs[1].Header.Get("clientId"))
	require.Equal(t, "application/vnd.connectwise.com+json; version=2025.1", recs[1].ResponseHeader.Get("Content-Type"))
	b.sim.ResetRequests()
	require.Empty(t, b.sim.Requests())
}
