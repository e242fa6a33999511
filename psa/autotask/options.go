package autotask

import (
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
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
// status, duration; never headers or bodies). Pass an entry carrying the
// tenant and task fields so that every line has them. The default discards.
func WithLogger(l logrus.FieldLogger) Option {
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

// discardLogger is the default logger: its own logrus.Logger writing to
// io.Discard, so that a client never touches logrus's global logger.
func discardLogger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	return l
}
