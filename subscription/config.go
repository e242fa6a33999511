package subscription

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
)

// What the manager subscribes to.
const (
	// Resource is the Graph resource watched per tenant.
	Resource = "/users"
	// ChangeType is what users can notify (users never send created: a new
	// user arrives as updated).
	ChangeType = "updated,deleted"
	// MaxExpiry is Graph's longest lifetime for a users subscription
	// (41,760 minutes).
	MaxExpiry = 41760 * time.Minute
	// NotificationPath and LifecyclePath are the webhook routes under
	// Config.PublicURL.
	NotificationPath = "/webhook/graph"
	LifecyclePath    = "/webhook/graph/lifecycle"
)

// skewAllowance keeps a requested expiry inside Graph's maximum when
// psasync's clock runs a little ahead of Graph's.
const skewAllowance = 2 * time.Minute

// Config is the manager's configuration; zero fields take the defaults.
type Config struct {
	// PublicURL is the https base URL Graph reaches the webhook at; the
	// notificationUrl is PublicURL+NotificationPath and the lifecycle URL
	// PublicURL+LifecyclePath. http is accepted on loopback hosts only.
	PublicURL string
	// Expiry is the lifetime requested on create and renew (default and
	// maximum MaxExpiry; the manager asks for at most MaxExpiry minus two
	// minutes, for clock skew).
	Expiry time.Duration
	// RenewBefore renews a subscription once less than this remains
	// (default 3 days, i.e. 72 hourly checks before it could lapse).
	RenewBefore time.Duration
	// Clock gives the time (default time.Now); tests share a fake one with
	// the Graph simulator.
	Clock func() time.Time
	// Logger receives what the manager does (default: discard).
	Logger logrus.FieldLogger
	// LockWait is how long an operation waits for the tenant's lock held by
	// another replica or job before failing with ErrBusy (default 20s).
	LockWait time.Duration
	// LockTTL bounds how long a crashed holder blocks the tenant (default
	// 2 minutes, the subscription task's timeout).
	LockTTL time.Duration
	// Concurrency is how many tenants Converge handles at once (default 4).
	Concurrency int
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	c.PublicURL = strings.TrimRight(strings.TrimSpace(c.PublicURL), "/")
	c.Expiry = cmp.Or(c.Expiry, MaxExpiry)
	c.RenewBefore = cmp.Or(c.RenewBefore, 3*24*time.Hour)
	c.Clock, c.Logger = clockAndLogger(c.Clock, c.Logger)
	c.LockWait = cmp.Or(c.LockWait, 20*time.Second)
	c.LockTTL = cmp.Or(c.LockTTL, 2*time.Minute)
	c.Concurrency = cmp.Or(c.Concurrency, 4)
	return c
}

// clockAndLogger fills an unset clock and logger as every component of the
// package defaults them: time.Now, and a logger of its own that discards
// (so nothing touches logrus's global logger).
func clockAndLogger(clock func() time.Time, log logrus.FieldLogger) (func() time.Time, logrus.FieldLogger) {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = discardLogger()
	}
	return clock, log
}

// discardLogger is the default logger: its own, writing nowhere.
func discardLogger() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// Validate reports every problem of a defaulted config at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("subscription config: "+format, args...))
	}
	if c.PublicURL == "" {
		bad("public_url is required (the https base URL Graph posts notifications to)")
	} else if err := checkPublicURL(c.PublicURL); err != nil {
		bad("public_url: %v", err)
	}
	if c.Expiry <= 0 || c.Expiry > MaxExpiry {
		bad("expiry %s must be positive and at most %s (Graph's maximum for users)", c.Expiry, MaxExpiry)
	}
	if c.RenewBefore <= 0 || c.RenewBefore >= c.Expiry {
		bad("renew_before %s must be positive and shorter than expiry %s", c.RenewBefore, c.Expiry)
	}
	if c.LockWait < 0 || c.LockTTL <= 0 {
		bad("lock wait %s must not be negative and lock ttl %s must be positive", c.LockWait, c.LockTTL)
	}
	if c.Concurrency < 1 {
		bad("concurrency %d must be at least 1", c.Concurrency)
	}
	return errors.Join(errs...)
}

// checkPublicURL requires an absolute https URL without query or fragment
// (http only on loopback, for local tests).
func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", raw)
	}
	if !directory.HTTPSOrLoopback(u) {
		return fmt.Errorf("%q must use https (Graph only posts to https endpoints)", raw)
	}
	return nil
}
