package halopsa_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
)

// fakeClock is a clock tests move by hand; the sim and the client share it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testBundle is one sim and a client configured for it.
type testBundle struct {
	sim    *halosim.Sim
	client *halopsa.Client
	cfg    halopsa.Config
	clock  *fakeClock
}

// setupOpts tweaks setup.
type setupOpts struct {
	sim    []halosim.Option
	config func(*halopsa.Config)
	client []halopsa.Option
}

const testCompany = 12

func setup(t *testing.T, o setupOpts) testBundle {
	t.Helper()
	clock := newFakeClock()
	simOpts := append([]halosim.Option{halosim.WithClock(clock.Now)}, o.sim...)
	sim := halosim.NewServer(t, simOpts...)
	sim.AddCompany(testCompany, "Contoso")
	cfg := simConfig(sim)
	if o.config != nil {
		o.config(&cfg)
	}
	clientOpts := append([]halopsa.Option{halopsa.WithClock(clock.Now)}, o.client...)
	client, err := halopsa.New(cfg, clientOpts...)
	require.NoError(t, err)
	return testBundle{sim: sim, client: client, cfg: cfg, clock: clock}
}

// simConfig is a client config for sim: its credentials and custom fields.
func simConfig(sim *halosim.Sim) halopsa.Config {
	return halopsa.Config{
		InstanceURL:         sim.BaseURL(),
		ClientID:            halosim.DefaultClientID,
		ClientSecret:        halosim.DefaultClientSecret,
		OfficeLocationField: halosim.CustomFieldOfficeLocation,
		ContactTypeField:    halosim.CustomFieldContactType,
	}
}

// apiRequests returns the recorded requests whose path starts with prefix
// (case-insensitive).
func apiRequests(sim *halosim.Sim, method, prefix string) []halosim.Recorded {
	var out []halosim.Recorded
	for _, r := range sim.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(strings.ToLower(r.Path), strings.ToLower(prefix)) {
			out = append(out, r)
		}
	}
	return out
}

// tokenRequests counts requests to the token endpoint.
func tokenRequests(sim *halosim.Sim) int {
	n := 0
	for _, r := range sim.Requests() {
		if strings.HasSuffix(strings.ToLower(r.Path), "/token") {
			n++
		}
	}
	return n
}

func query(t *testing.T, r halosim.Recorded) url.Values {
	t.Helper()
	q, err := url.ParseQuery(r.RawQuery)
	require.NoError(t, err)
	return q
}
