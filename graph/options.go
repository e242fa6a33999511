package graph

import (
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
)

// Defaults of the client's options.
const (
	// DefaultPageSize is the $top sent when listing users (Graph's maximum
	// for users is 999; fewer pages mean fewer requests).
	DefaultPageSize = 999
	// DefaultMaxPages stops a listing or delta round that keeps handing out
	// next links, so a looping link cannot hang a worker.
	DefaultMaxPages = 10000
	// DefaultThrottleRetries is how often one request waits out a 429 or 503
	// inside the client before the caller sees a ThrottledError.
	DefaultThrottleRetries = 2
	// DefaultMaxThrottleWait is the longest Retry-After the client waits out
	// itself; longer ones go straight to the caller.
	DefaultMaxThrottleWait = 5 * time.Second
)

// options collects what the Option functions set.
type options struct {
	httpClient      *http.Client
	log             logrus.FieldLogger
	pageSize        int
	maxPages        int
	throttleRetries int
	maxThrottleWait time.Duration
	batchLinger     time.Duration
	batchTimeout    time.Duration
}

// Option changes a Client built by New.
type Option func(*options)

// WithHTTPClient sets the HTTP client whose transport carries both Graph and
// token requests (its Timeout applies to each Graph request). Tests pass
// one that trusts the simulator's certificate.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithLogger sets where the client logs throttling and paging; the default
// discards.
func WithLogger(l logrus.FieldLogger) Option { return func(o *options) { o.log = l } }

// WithPageSize sets the $top of user listings (1..999).
func WithPageSize(n int) Option { return func(o *options) { o.pageSize = n } }

// WithMaxPages bounds how many pages one listing or delta round may read.
func WithMaxPages(n int) Option { return func(o *options) { o.maxPages = n } }

// WithThrottleRetry sets how often a throttled (429/503/504) request is
// retried inside the client, and the longest Retry-After it waits for;
// retries 0 hands every throttle to the caller at once.
func WithThrottleRetry(retries int, maxWait time.Duration) Option {
	return func(o *options) { o.throttleRetries, o.maxThrottleWait = retries, maxWait }
}

// WithBatch sends GetUser calls of this client that arrive within linger of
// each other (up to MaxBatchSize) as one POST /$batch (see batch.go); 0,
// the default, sends each on its own. A caller waits at most linger more
// than a lone GET would take; the round trips drop by up to twenty times
// when many per-user jobs of one tenant run at once.
func WithBatch(linger time.Duration) Option { return func(o *options) { o.batchLinger = linger } }

func defaultOptions() options {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return options{
		log:             l,
		pageSize:        DefaultPageSize,
		maxPages:        DefaultMaxPages,
		throttleRetries: DefaultThrottleRetries,
		maxThrottleWait: DefaultMaxThrottleWait,
	}
}
