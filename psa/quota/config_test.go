package quota

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		badKeys []string
	}{
		{name: "zero limits nothing", cfg: Config{}},
		{name: "rate only", cfg: Config{Requests: 10, Period: time.Minute, Key: "k"}},
		{name: "concurrency only", cfg: Config{MaxConcurrent: 3, ConcurrencyWait: time.Second, Key: "k"}},
		{name: "burst equal to requests", cfg: Config{Requests: 10, Burst: 10, Period: time.Minute, Key: "k"}},
		{name: "negative requests", cfg: Config{Requests: -1, Key: "k"}, badKeys: []string{"requests"}},
		{name: "requests without period", cfg: Config{Requests: 10, Key: "k"}, badKeys: []string{"period"}},
		{name: "negative period", cfg: Config{Period: -time.Second}, badKeys: []string{"period"}},
		{name: "negative burst", cfg: Config{Requests: 10, Period: time.Minute, Burst: -1, Key: "k"}, badKeys: []string{"burst"}},
		{name: "burst without requests", cfg: Config{Burst: 5}, badKeys: []string{"burst"}},
		{name: "burst above requests", cfg: Config{Requests: 10, Period: time.Minute, Burst: 11, Key: "k"}, badKeys: []string{"burst"}},
		{name: "negative max_concurrent", cfg: Config{MaxConcurrent: -2, Key: "k"}, badKeys: []string{"max_concurrent"}},
		{name: "negative concurrency_wait", cfg: Config{ConcurrencyWait: -time.Second}, badKeys: []string{"concurrency_wait"}},
		{name: "missing key", cfg: Config{MaxConcurrent: 1}, badKeys: []string{"key"}},
		{name: "key with spaces", cfg: Config{Key: "psasync quota"}, badKeys: []string{"key"}},
		{
			name:    "every bad key at once",
			cfg:     Config{Requests: 5, Burst: 6, MaxConcurrent: -1, ConcurrencyWait: -1},
			badKeys: []string{"period", "burst", "max_concurrent", "concurrency_wait", "key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.badKeys) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.badKeys), err.Error())
			for i, key := range tt.badKeys {
				require.True(t, strings.HasPrefix(lines[i], ""+key+": "), lines[i])
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"burst is a tenth", Config{Requests: 5000}, Config{Requests: 5000, Burst: 500, ConcurrencyWait: DefaultConcurrencyWait, ShareWindow: DefaultShareWindow}},
		{"burst at least one", Config{Requests: 7}, Config{Requests: 7, Burst: 1, ConcurrencyWait: DefaultConcurrencyWait, ShareWindow: DefaultShareWindow}},
		{"set values stay", Config{Requests: 10, Burst: 10, ConcurrencyWait: time.Second, ShareWindow: -1}, Config{Requests: 10, Burst: 10, ConcurrencyWait: time.Second, ShareWindow: -1}},
		{"no burst without requests", Config{MaxConcurrent: 2}, Config{MaxConcurrent: 2, ConcurrencyWait: DefaultConcurrencyWait, ShareWindow: DefaultShareWindow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.in.WithDefaults())
		})
	}
}

func TestDefaultsStayUnderHalfOfVendorBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		psaType string
		// vendorRequests per vendorPeriod is the vendor's published budget
		// (ConnectWise publishes none; psasync's own ceiling is used).
		vendorRequests int
		vendorPeriod   time.Duration
		// maxInFlight is the most calls psasync may have in flight on one
		// vendor endpoint (both groups), 0 for no cap.
		maxInFlight int
	}{
		{Autotask, 10000, time.Hour, 2},
		{HaloPSA, 300, 5 * time.Minute, 0},
		{ConnectWise, 7200, time.Hour, 4},
	}
	for _, tt := range tests {
		t.Run(tt.psaType, func(t *testing.T) {
			t.Parallel()
			c := Defaults(tt.psaType)
			require.NoError(t, c.Validate())
			require.Equal(t, KeyPrefix+tt.psaType, c.Key)
			require.Equal(t, tt.vendorPeriod, c.Period)
			// Requests caps every window shorter than Period, burst included.
			require.LessOrEqual(t, 2*c.Requests, tt.vendorRequests, "at most half of the vendor's budget")
			require.Equal(t, max(1, c.Requests/DefaultBurstDivisor), c.Burst)
			require.Equal(t, DefaultConcurrencyWait, c.ConcurrencyWait)
			require.Equal(t, tt.maxInFlight, 2*c.MaxConcurrent, "two endpoint groups")
		})
	}
	// Autotask's thread limit is 3 per object endpoint; reads and writes
	// share the Contacts endpoint.
	require.Less(t, 2*Defaults(Autotask).MaxConcurrent, 3)
	require.Equal(t, Config{}, Defaults("syncro"))
}

func TestConfigFromYAML(t *testing.T) {
	t.Parallel()
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(`
requests: 5000
period: 1h
burst: 250
max_concurrent: 1
concurrency_wait: 45s
key: psasync:quota:autotask
`), &c))
	require.Equal(t, Config{Requests: 5000, Period: time.Hour, Burst: 250, MaxConcurrent: 1,
		ConcurrencyWait: 45 * time.Second, Key: "psasync:quota:autotask"}, c)
	require.NoError(t, c.Validate())
}
