package quota

import (
	"time"

	"github.com/sirupsen/logrus"
)

// Option changes a Client built by Wrap.
type Option func(*Client)

// WithLogger sets where waits, spent budgets (debug) and Redis trouble
// (warn) are logged; the default discards them. Pass an entry carrying the
// tenant and task fields so that every line has them.
func WithLogger(l logrus.FieldLogger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithName sets the PSA name used in error messages ("psasync's own quota
// for autotask is spent"); the default is Config.Key.
func WithName(name string) Option {
	return func(c *Client) {
		if name != "" {
			c.name = name
		}
	}
}

// WithPageSize tells the decorator how many contacts the inner client reads
// per ListContacts page, so that each page is charged as one request. Pass
// the vendor client's configured page size; the default is DefaultPageSize.
func WithPageSize(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.pageSize = n
		}
	}
}

// WithLease sets how long a concurrency slot stays held without renewal,
// which is how long a crashed replica's slot takes to free itself; the
// default is DefaultLease. Live holders renew every third of it, so it must
// comfortably exceed a Redis round trip.
func WithLease(d time.Duration) Option {
	return func(c *Client) {
		if d >= 30*time.Millisecond {
			c.lease = d
		}
	}
}
