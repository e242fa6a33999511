package halopsa

import (
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
)

// Option changes a Client built by New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxies, TLS); the default
// has a 30-second timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithLogger sets where request and token events are logged at debug level;
// the default discards them. Tokens and the secret are never logged. Pass an
// entry carrying the tenant and task fields so that every line has them.
func WithLogger(l logrus.FieldLogger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithClock replaces time.Now for token expiry and Retry-After dates, so tests
// can move time instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// discardLogger is the default logger: its own logrus.Logger writing to
// io.Discard, so that a client never touches logrus's global logger.
func discardLogger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	return l
}
