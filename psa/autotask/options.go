package autotask

import (
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// DefaultZoneCache is how long a looked-up zone URL is reused.
const DefaultZoneCache = 24 * time.Hour

// Option changes a Client's defaults; pass options to New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, proxy, timeout); the
// default has a 60 s timeout. A nil client is ignored.
func WithHTTPClient(hc *http.Client) Option { return sending(psa.WithHTTPClient(hc)) }

// WithLogger sets where requests are logged at debug level (method, path,
// status, duration; never headers or bodies). Pass an entry carrying the
// tenant and task fields so that every line has them. The default discards.
func WithLogger(l logrus.FieldLogger) Option { return sending(psa.WithLogger(l)) }

// WithMaxAnswer bounds one answer in bytes (default psa.DefaultMaxAnswer);
// a larger answer is an error that says so, never a truncated read.
func WithMaxAnswer(n int64) Option { return sending(psa.WithMaxAnswer(n)) }

// WithZoneCache sets how long the zone URL is reused before it is looked up
// again; 0 or less looks it up before every call.
func WithZoneCache(d time.Duration) Option {
	return func(c *Client) { c.zoneTTL = d }
}

// sending applies a request-path option to the client's sender.
func sending(o psa.SenderOption) Option { return func(c *Client) { o(&c.send) } }
