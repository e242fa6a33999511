package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLedgerSettings(t *testing.T) {
	t.Parallel()
	secrets := env(map[string]string{"GRAPH_SECRET": "a", "CW_PRIVATE": "b"})
	tests := []struct {
		name    string
		yaml    string
		want    Ledger
		wantErr []string
	}{
		{name: "defaults", yaml: "", want: Ledger{}},
		{name: "set", yaml: "ledger: {retention: 720h, max_entries: 1000000, runs_per_tenant: 20}",
			want: Ledger{Retention: 720 * time.Hour, MaxEntries: 1_000_000, RunsPerTenant: 20}},
		{name: "too short", yaml: "ledger: {retention: 30m}", wantErr: []string{"ledger.retention: 30m0s is shorter than 1h0m0s"}},
		{name: "days", yaml: "ledger: {retention: 90d}", want: Ledger{Retention: 90 * 24 * time.Hour}},
		{name: "not a duration", yaml: "ledger: {retention: 90 days}", wantErr: []string{`ledger.retention: line 21: "90 days" is not valid`}},
		{name: "not a number", yaml: "ledger: {max_entries: many}", wantErr: []string{"ledger.max_entries: line 21"}},
		{name: "every bad key at once", yaml: "ledger: {max_entries: 10, runs_per_tenant: -1}",
			wantErr: []string{"ledger.max_entries: 10 is less than 1000", "ledger.runs_per_tenant: -1 is not between 1 and 10000"}},
		{name: "too many runs", yaml: "ledger: {runs_per_tenant: 20000}", wantErr: []string{"ledger.runs_per_tenant"}},
		{name: "unknown key", yaml: "ledger: {retension: 1h}", wantErr: []string{"retension"}},
		{name: "quarantine threshold", yaml: "ledger: {quarantine_threshold: 5}", want: Ledger{QuarantineThreshold: 5}},
		{name: "quarantine threshold out of range", yaml: "ledger: {quarantine_threshold: 1000}", wantErr: []string{"ledger.quarantine_threshold: 1000 is not between 1 and 100"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(good+tc.yaml), secrets)
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					require.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Ledger)
		})
	}
}
