package halopsa

import (
	"log/slog"
	"net/http"
	"time"
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
// the default discards them. Tokens and the secret are never logged.
func WithLogger(l *slog.Logger) Option {
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
