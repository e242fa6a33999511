package connectwise

import (
	"net/http"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// DefaultMaxPages bounds one list walk: 1,000 pages of 1,000 contacts. A
// site that keeps announcing a next page past it gets an error instead of
// hanging a worker.
const DefaultMaxPages = 1000

// Option tunes a Client beyond its Config.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxies, transports for
// tests). Default: a client with a 60 s timeout.
func WithHTTPClient(h *http.Client) Option { return sending(psa.WithHTTPClient(h)) }

// WithLogger sets where the client logs its requests (at debug level:
// method, path, status, duration; never headers or bodies). Pass an entry
// carrying the tenant and task fields so that every line has them. Default:
// discard.
func WithLogger(l logrus.FieldLogger) Option { return sending(psa.WithLogger(l)) }

// WithMaxAnswer bounds one answer in bytes (default psa.DefaultMaxAnswer);
// a larger answer is an error that says so, never a truncated read.
func WithMaxAnswer(n int64) Option { return sending(psa.WithMaxAnswer(n)) }

// WithMaxPages changes the max-pages guard of list walks (DefaultMaxPages).
func WithMaxPages(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxPages = n
		}
	}
}

// sending applies a request-path option to the client's sender.
func sending(o psa.SenderOption) Option { return func(c *Client) { o(&c.send) } }
