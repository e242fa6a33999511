package quota

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults for Config fields left empty.
const (
	// DefaultConcurrencyWait is how long a call waits for a concurrency slot
	// before it gives up with psa.ErrRateLimited.
	DefaultConcurrencyWait = 30 * time.Second
	// DefaultBurstDivisor sets the default Burst to Requests/10 (at least
	// 1): a run may start with a tenth of the budget at once and is then
	// paced evenly, so one burst never spends the whole Period's budget.
	DefaultBurstDivisor = 10
	// KeyPrefix starts the Redis key namespace of every default Config.
	KeyPrefix = "psasync:quota:"
)

// PSA types Defaults knows, as psasync's config names them.
const (
	// ConnectWise is ConnectWise Manage (PSA).
	ConnectWise = "connectwise"
	// Autotask is Datto/Kaseya Autotask PSA.
	Autotask = "autotask"
	// HaloPSA is HaloPSA, hosted or on premises.
	HaloPSA = "halopsa"
)

// Config is one PSA's budget, shared by every psasync replica that uses the
// same Key on the same Redis.
//
// Requests is a hard cap: in any window shorter than Period, at most
// Requests calls pass, counted across all replicas. The limiter is a GCRA
// (generic cell rate algorithm): Burst calls may pass at once, and the rest
// are spaced evenly so that the burst plus the paced calls stay within
// Requests (the steady rate is (Requests-Burst+1) per Period).
type Config struct {
	// Requests is how many calls may pass per Period across all replicas;
	// 0 means no rate limit.
	Requests int `yaml:"requests"`
	// Period is the window Requests is counted over, e.g. 1h.
	Period time.Duration `yaml:"period"`
	// Burst is how many calls may pass at once; default Requests/10, at
	// least 1, never more than Requests.
	Burst int `yaml:"burst"`
	// MaxConcurrent is how many calls may be in flight at once per endpoint
	// group (contacts-read, contacts-write) across all replicas; 0 means no
	// cap.
	MaxConcurrent int `yaml:"max_concurrent"`
	// ConcurrencyWait is how long a call waits for a concurrency slot
	// before giving up with psa.ErrRateLimited; default 30s.
	ConcurrencyWait time.Duration `yaml:"concurrency_wait"`
	// ShareWindow is how long after its last call a tenant still counts as
	// contending for the budget, which is split evenly between the
	// contending tenants (see share.go); default 30s, negative: no split,
	// first come first served.
	ShareWindow time.Duration `yaml:"share_window"`
	// Key is the Redis key namespace, e.g. "psasync:quota:autotask". Every
	// replica talking to the same PSA database must use the same Key, and
	// deployments for different PSA databases on one Redis different ones.
	Key string `yaml:"key"`
}

// Limited reports whether c limits anything; a Config without limits makes
// Wrap a pass-through that needs no Redis.
func (c Config) Limited() bool {
	return c.Requests > 0 || c.MaxConcurrent > 0
}

// WithDefaults returns c with Burst and ConcurrencyWait set to their defaults
// when they are zero.
func (c Config) WithDefaults() Config {
	if c.Burst == 0 && c.Requests > 0 {
		c.Burst = max(1, c.Requests/DefaultBurstDivisor)
	}
	if c.ConcurrencyWait == 0 {
		c.ConcurrencyWait = DefaultConcurrencyWait
	}
	if c.ShareWindow == 0 {
		c.ShareWindow = DefaultShareWindow
	}
	return c
}

// Validate reports every bad setting, each error naming its YAML key; zero
// optional fields are valid (they take their defaults).
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Requests < 0 {
		bad("requests", "must not be negative (0 means unlimited)")
	}
	switch {
	case c.Period < 0:
		bad("period", "must not be negative")
	case c.Requests > 0 && c.Period < time.Millisecond:
		bad("period", "must be at least 1ms when requests is set")
	}
	switch {
	case c.Burst < 0:
		bad("burst", "must not be negative (0 means requests/%d)", DefaultBurstDivisor)
	case c.Burst > 0 && c.Requests == 0:
		bad("burst", "needs requests to be set")
	case c.Requests > 0 && c.Burst > c.Requests:
		bad("burst", "must not exceed requests (%d)", c.Requests)
	}
	if c.MaxConcurrent < 0 {
		bad("max_concurrent", "must not be negative (0 means no cap)")
	}
	if c.ConcurrencyWait < 0 {
		bad("concurrency_wait", "must not be negative (0 means %s)", DefaultConcurrencyWait)
	}
	switch {
	case c.Limited() && c.Key == "":
		bad("key", "is required when requests or max_concurrent is set")
	case strings.ContainsAny(c.Key, " \t\r\n"):
		bad("key", "must not contain spaces")
	}
	return errors.Join(errs...)
}

// Defaults returns settings per PSA type (ConnectWise, Autotask, HaloPSA)
// that keep psasync under half of the vendor's published budget, leaving the
// rest to the MSP's other integrations, which share it. An unknown type gets
// the zero Config, which limits nothing.
//
//   - autotask: 5,000 requests per hour (Autotask allows 10,000 per hour per
//     database) and max_concurrent 1 per endpoint group. Autotask's thread
//     limit of 3 is counted per API tracking identifier and object endpoint,
//     and both groups land on the same object endpoint, Contacts (reads on
//     /Contacts/query and /Contacts/{id}, writes on
//     /Companies/{id}/Contacts). One per group keeps psasync at 2 of the 3
//     threads, so the limit is never tripped and one thread stays free for
//     anything else that uses the same tracking identifier.
//   - halopsa: 150 requests per 5 minutes (hosted Halo allows about 300);
//     Halo publishes no concurrency limit, so there is no cap.
//   - connectwise: ConnectWise Manage publishes no hard quota but answers 429
//     with Retry-After under load; 3,600 requests per hour (one a second on
//     average) and max_concurrent 2 per group are a conservative choice.
//
// Burst is the default, a tenth of Requests, and Key is KeyPrefix + the type.
func Defaults(psaType string) Config {
	var c Config
	switch psaType {
	case Autotask:
		c = Config{Requests: 5000, Period: time.Hour, MaxConcurrent: 1}
	case HaloPSA:
		c = Config{Requests: 150, Period: 5 * time.Minute}
	case ConnectWise:
		c = Config{Requests: 3600, Period: time.Hour, MaxConcurrent: 2}
	default:
		return Config{}
	}
	c.Key = KeyPrefix + psaType
	return c.WithDefaults()
}
