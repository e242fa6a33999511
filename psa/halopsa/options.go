package halopsa

import (
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// Option changes a Client built by New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxies, TLS); the default
// has a 30-second timeout.
func WithHTTPClient(hc *http.Client) Option { return sending(psa.WithHTTPClient(hc)) }

// WithLogger sets where request and token events are logged at debug level;
// the default discards them. Tokens and the secret are never logged. Pass an
// entry carrying the tenant and task fields so that every line has them.
func WithLogger(l logrus.FieldLogger) Option { return sending(psa.WithLogger(l)) }

// WithMaxAnswer bounds one answer in bytes (default psa.DefaultMaxAnswer);
// a larger answer is an error that says so, never a truncated read.
func WithMaxAnswer(n int64) Option { return sending(psa.WithMaxAnswer(n)) }

// WithClock replaces time.Now for token expiry and Retry-After dates, so tests
// can move time instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// sending applies a request-path option to the client's sender.
func sending(o psa.SenderOption) Option { return func(c *Client) { o(&c.send) } }
