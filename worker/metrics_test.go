package worker_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

func TestMetricsObserveReport(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := worker.NewMetrics(reg)
	require.NoError(t, err)

	m.ObserveReport(&worker.Report{Success: false, SyncMode: worker.ModeFull,
		CreatedContacts: []worker.ContactResult{{Action: "created"}, {Action: "created"}},
		UpdatedContacts: []worker.ContactResult{{Action: "updated"}, {Action: "deactivated"}},
		Errors:          []worker.ErrorItem{{Code: worker.CodeDuplicateContact}}})
	// A dry run counts as a run but wrote nothing.
	m.ObserveReport(&worker.Report{Success: true, SyncMode: worker.ModeIncremental, DryRun: true,
		CreatedContacts: []worker.ContactResult{{Action: "created"}}})
	m.ObserveReport(nil)
	m.ObserveOutcome(worker.UserOutcome{Action: "updated"})
	m.ObserveOutcome(worker.UserOutcome{Action: "skipped"})
	m.ObserveOutcome(worker.UserOutcome{Action: "failed", Code: worker.CodePSAConnectionError})

	want := `
# HELP psasync_contact_failures_total Users that could not be synced, by the report's error code.
# TYPE psasync_contact_failures_total counter
psasync_contact_failures_total{code="DuplicateContact"} 1
psasync_contact_failures_total{code="PSAConnectionError"} 1
# HELP psasync_contacts_total PSA contact writes by action (created, updated, deactivated, reactivated, linked).
# TYPE psasync_contacts_total counter
psasync_contacts_total{action="created"} 2
psasync_contacts_total{action="deactivated"} 1
psasync_contacts_total{action="updated"} 2
# HELP psasync_runs_total Finished sync runs by mode and result (success, failed).
# TYPE psasync_runs_total counter
psasync_runs_total{mode="full",result="failed"} 1
psasync_runs_total{mode="incremental",result="success"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"psasync_contact_failures_total", "psasync_contacts_total", "psasync_runs_total"))

	_, err = worker.NewMetrics(reg)
	require.Error(t, err, "registering twice is refused")

	var none *worker.Metrics
	none.ObserveReport(&worker.Report{})
	none.ObserveOutcome(worker.UserOutcome{Action: "created"})
}

func TestMetricsTransport(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := worker.NewMetrics(reg)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/limited" {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	hc := &http.Client{Transport: m.Transport("psa", nil)}
	for _, p := range []string{"/ok", "/ok", "/limited"} {
		resp, err := hc.Get(srv.URL + p)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	_, err = hc.Get("http://127.0.0.1:1/unreachable")
	require.Error(t, err)

	want := `
# HELP psasync_upstream_requests_total HTTP requests to the PSA and to Microsoft Graph, by upstream and status (error = no answer).
# TYPE psasync_upstream_requests_total counter
psasync_upstream_requests_total{status="200",upstream="psa"} 2
psasync_upstream_requests_total{status="429",upstream="psa"} 1
psasync_upstream_requests_total{status="error",upstream="psa"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "psasync_upstream_requests_total"))

	var none *worker.Metrics
	require.Equal(t, http.DefaultTransport, none.Transport("graph", nil), "no metrics, no wrapper")
}

func TestMetricsLastIncrementalRun(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := worker.NewMetrics(reg)
	require.NoError(t, err)

	start := time.Unix(1700000000, 0).UTC()
	m.ObserveReport(&worker.Report{Success: true, SyncMode: worker.ModeIncremental, TenantID: "t1",
		SyncTimestamp: start, DurationMS: 2500, Statistics: worker.Statistics{UsersProcessed: 7}})
	// The last run wins, even when it saw nothing.
	m.ObserveReport(&worker.Report{Success: true, SyncMode: worker.ModeIncremental, TenantID: "t2",
		SyncTimestamp: start, Statistics: worker.Statistics{UsersProcessed: 3}})
	m.ObserveReport(&worker.Report{Success: true, SyncMode: worker.ModeIncremental, TenantID: "t2",
		SyncTimestamp: start.Add(time.Minute)})
	// Full runs and dry runs leave the gauges alone.
	m.ObserveReport(&worker.Report{Success: true, SyncMode: worker.ModeFull, TenantID: "t3",
		SyncTimestamp: start, Statistics: worker.Statistics{UsersProcessed: 50}})
	m.ObserveReport(&worker.Report{Success: true, SyncMode: worker.ModeIncremental, TenantID: "t1", DryRun: true,
		SyncTimestamp: start.Add(time.Hour), Statistics: worker.Statistics{UsersProcessed: 99}})

	want := `
# HELP psasync_last_incremental_run_users_changed Users the tenant's last incremental (delta) run in this process saw changed (the report's users_processed).
# TYPE psasync_last_incremental_run_users_changed gauge
psasync_last_incremental_run_users_changed{tenant="t1"} 7
psasync_last_incremental_run_users_changed{tenant="t2"} 0
# HELP psasync_last_incremental_run_timestamp_seconds When the tenant's last incremental (delta) run in this process finished, unix seconds.
# TYPE psasync_last_incremental_run_timestamp_seconds gauge
psasync_last_incremental_run_timestamp_seconds{tenant="t1"} 1.7000000025e+09
psasync_last_incremental_run_timestamp_seconds{tenant="t2"} 1.70000006e+09
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"psasync_last_incremental_run_users_changed", "psasync_last_incremental_run_timestamp_seconds"))
}
