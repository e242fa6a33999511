package ledger

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		raw       string
		want      Query
		wantParam string
	}{
		{name: "empty", raw: "", want: Query{}},
		{name: "every filter",
			raw: "tenant=A&company=C1&user=a%40x&contact=7&field=email&action=updated&trigger=run&since=2026-11-01&until=2026-11-02T10:00:00Z&cursor=5-0&limit=5000",
			want: Query{Tenant: "A", CompanyID: "C1", User: "a@x", ContactID: "7", Field: "email", Action: "updated",
				Trigger: "run", Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
				Until: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC), Cursor: "5-0", Limit: MaxLimit}},
		{name: "unknown parameter", raw: "tenat=A", wantParam: "tenat"},
		{name: "repeated", raw: "tenant=A&tenant=B", wantParam: "tenant"},
		{name: "bad trigger", raw: "trigger=cron", wantParam: "trigger"},
		{name: "bad since", raw: "since=yesterday", wantParam: "since"},
		{name: "bad until", raw: "until=2026-13-01", wantParam: "until"},
		{name: "since after until", raw: "since=2026-11-03&until=2026-11-02", wantParam: "since"},
		{name: "bad cursor", raw: "cursor=abc", wantParam: "cursor"},
		{name: "zero limit", raw: "limit=0", wantParam: "limit"},
		{name: "text limit", raw: "limit=ten", wantParam: "limit"},
		{name: "too long", raw: "user=" + string(make([]byte, 300)), wantParam: "user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tc.raw)
			require.NoError(t, err)
			q, err := ParseQuery(v)
			if tc.wantParam != "" {
				var pe *ParamError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tc.wantParam, pe.Param)
				require.Contains(t, err.Error(), `"`+tc.wantParam+`"`)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, q)
		})
	}
}

func TestParseQueryDuration(t *testing.T) {
	t.Parallel()
	q, err := ParseQuery(url.Values{"since": {"24h"}})
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(-24*time.Hour), q.Since, time.Minute)
}

func TestParseRunQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		raw       string
		want      RunQuery
		wantParam string
	}{
		{name: "every filter", raw: "tenant=A&mode=full&state=failed&since=2026-11-01&limit=500&cursor=001733270000000:r1",
			want: RunQuery{Tenant: "A", Mode: "full", State: "failed", Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
				Limit: MaxRunsLimit, Cursor: "001733270000000:r1"}},
		{name: "unknown", raw: "contact=1", wantParam: "contact"},
		{name: "bad cursor", raw: "cursor=r1", wantParam: "cursor"},
		{name: "bad limit", raw: "limit=-1", wantParam: "limit"},
		{name: "bad until", raw: "until=soon", wantParam: "until"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tc.raw)
			require.NoError(t, err)
			q, err := ParseRunQuery(v)
			if tc.wantParam != "" {
				var pe *ParamError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tc.wantParam, pe.Param)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, q)
		})
	}
}
