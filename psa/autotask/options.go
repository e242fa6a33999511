package autotask

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultZoneCache is how long a looked-up zone URL is reused.
const DefaultZoneCache = 24 * time.Hour

// Option changes a Client's defaults; pass options to New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, proxy, timeout); the
// default has a 60 s timeout. A nil client is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithLogger sets where requests are logged at debug level (method, path,
// status, duration; never headers or bodies). The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithZoneCache sets how long the zone URL is reused before it is looked up
// again; 0 or less looks it up before every call.
func WithZoneCache(d time.Duration) Option {
	return func(c *Client) { c.zoneTTL = d }
}
