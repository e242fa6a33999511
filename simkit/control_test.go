package simkit_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit"
)

// controlled is a simulator of nothing but the kit, served over HTTP.
type controlled struct {
	simkit.Endpoint
	simkit.Faults
	meter simkit.Meter
}

func (c *controlled) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(strings.ToLower(r.URL.Path), "/_sim/") {
		simkit.Control{Faults: &c.Faults, Stats: func() any { return c.meter.Stats() }, ResetStats: c.meter.Reset}.ServeHTTP(w, r)
		return
	}
	rec := simkit.NewCapture(w)
	c.meter.ReadOrWrite(r.Method)
	if f, ok := simkit.Strike(&c.Faults, rec, r, simkit.Matching(r, "")); ok {
		rec.WriteHeader(f.Status)
	}
	c.meter.Answered(rec.Status(), false)
}

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	sim := simkit.Serve(t, &controlled{})
	root := sim.Root()

	status, _ := call(t, http.MethodPost, root+"/_sim/faults", `{"method":"GET","path_contains":"/a","status":429,"count":1,"latency_ms":1}`)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = call(t, http.MethodGet, root+"/a", "")
	require.Equal(t, http.StatusTooManyRequests, status)
	status, _ = call(t, http.MethodGet, root+"/a", "")
	require.Equal(t, http.StatusOK, status, "count used up")
	status, _ = call(t, http.MethodPost, root+"/b", "")
	require.Equal(t, http.StatusOK, status)

	status, body := call(t, http.MethodGet, root+"/_SIM/stats", "")
	require.Equal(t, http.StatusOK, status, "paths ignore case")
	require.JSONEq(t, `{"reads":2,"writes":1,"requests":3,"throttled":1,"errors":0}`, body)
	status, _ = call(t, http.MethodDelete, root+"/_sim/stats", "")
	require.Equal(t, http.StatusNoContent, status)
	require.Equal(t, simkit.Stats{}, sim.meter.Stats())

	sim.InjectFault(simkit.Fault{Status: 500})
	status, _ = call(t, http.MethodDelete, root+"/_sim/faults", "")
	require.Equal(t, http.StatusNoContent, status)
	status, _ = call(t, http.MethodGet, root+"/a", "")
	require.Equal(t, http.StatusOK, status, "faults cleared")

	status, body = call(t, http.MethodGet, root+"/_sim/nothing", "")
	require.Equal(t, http.StatusNotFound, status)
	var e map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.Contains(t, e["error"], "/_sim/nothing")
}

func TestControlRefusesBadFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		body    string
		success bool // Control.SuccessFaults
		want    int
	}{
		{"status", `{"status":503,"retry_after":"1","body":"x","code":"c","tenant":"t"}`, false, http.StatusNoContent},
		{"latency only", `{"latency_ms":10}`, false, http.StatusNoContent},
		{"neither status nor latency", `{}`, false, http.StatusBadRequest},
		{"2xx", `{"status":200}`, false, http.StatusBadRequest},
		{"2xx where the vendor fails inside a 200", `{"status":200}`, true, http.StatusNoContent},
		{"not a status", `{"status":1000}`, true, http.StatusBadRequest},
		{"negative count", `{"status":500,"count":-1}`, false, http.StatusBadRequest},
		{"negative latency", `{"status":500,"latency_ms":-1}`, false, http.StatusBadRequest},
		{"unknown field", `{"stauts":500}`, false, http.StatusBadRequest},
		{"not JSON", `nope`, false, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var faults simkit.Faults
			c := simkit.Control{Faults: &faults, Stats: func() any { return nil }, ResetStats: func() {}, SuccessFaults: tc.success}
			w := httptest.NewRecorder()
			c.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/_sim/faults", strings.NewReader(tc.body)))
			require.Equal(t, tc.want, w.Code, w.Body.String())
		})
	}
}

func TestControlFaultLatency(t *testing.T) {
	t.Parallel()
	sim := simkit.Serve(t, &controlled{})
	status, _ := call(t, http.MethodPost, sim.Root()+"/_sim/faults", `{"latency_ms":100,"count":1}`)
	require.Equal(t, http.StatusNoContent, status)
	start := time.Now()
	status, _ = call(t, http.MethodGet, sim.Root()+"/a", "")
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}
