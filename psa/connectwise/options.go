package connectwise

import (
	"io"
	"net/http"

	"github.com/sirupsen/logrus"
)

// DefaultMaxPages bounds one list walk: 1,000 pages of 1,000 contacts. A
// site that keeps announcing a next page past it gets an error instead of
// hanging a worker.
const DefaultMaxPages = 1000

// Option tunes a Client beyond its Config.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxies, transports for
// tests). Default: a client with a 60 s timeout.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithLogger sets where the client logs its requests (at debug level:
// method, path, status, duration; never headers or bodies). Pass an entry
// carrying the tenant and task fields so that every line has them. Default:
// discard.
func WithLogger(l logrus.FieldLogger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithMaxPages changes the max-pages guard of list walks (DefaultMaxPages).
func WithMaxPages(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxPages = n
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
