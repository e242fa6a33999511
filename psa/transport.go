package psa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
)

// DefaultMaxAnswer bounds one answer a vendor client reads: far above a page
// of 1,000 contacts (a few MB), far below what would hurt a worker.
const DefaultMaxAnswer int64 = 64 << 20

// AnswerTooLargeError is the cause inside an *Error of kind ErrInvalid when
// a PSA answer is over the client's bound: the client stops reading at the
// bound instead of truncating the answer or exhausting memory.
type AnswerTooLargeError struct {
	// Limit is the bound in bytes (Sender.MaxAnswer).
	Limit int64
	// Size is the answer's declared Content-Length, -1 when it declared none.
	Size int64
}

// Error names the bound, and the answer's size when it declared one.
func (e *AnswerTooLargeError) Error() string {
	if e.Size > 0 {
		return fmt.Sprintf("the answer of %d bytes is over the %d-byte limit", e.Size, e.Limit)
	}
	return fmt.Sprintf("the answer is over the %d-byte limit", e.Limit)
}

// Request is one HTTP call a vendor client's request path hands to Send.
type Request struct {
	Method string
	URL    string
	// Header holds the vendor's headers (credentials, Accept, Content-Type).
	Header http.Header
	// Body is the encoded request body; nil sends none.
	Body []byte
}

// Answer is a PSA's reply, read in full (within the bound) by Send.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Sender is the part of every vendor client's one request path that is the
// same for all vendors: send with the configured HTTP client, read the
// answer within a bound, log the exchange. Each vendor adds its own headers
// before and its own error classes after. A Sender never retries or sleeps.
type Sender struct {
	// Vendor names the PSA in log lines ("autotask request").
	Vendor string
	// HTTP sends the requests.
	HTTP *http.Client
	// Log gets one debug line per exchange: op, method, path, status,
	// bytes, duration; never headers, queries or bodies.
	Log logrus.FieldLogger
	// MaxAnswer bounds how many bytes of one answer are read.
	MaxAnswer int64
}

// NewSender returns a Sender for vendor with an HTTP client of the given
// timeout, a logger that discards, and DefaultMaxAnswer; opts change them.
func NewSender(vendor string, timeout time.Duration, opts ...SenderOption) Sender {
	s := Sender{Vendor: vendor, HTTP: &http.Client{Timeout: timeout}, Log: DiscardLogger(), MaxAnswer: DefaultMaxAnswer}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// SenderOption changes a Sender; vendor packages wrap these in their own
// Option type so that every client takes the same settings the same way.
type SenderOption func(*Sender)

// WithHTTPClient sets the HTTP client (timeouts, proxies, transports for
// tests); nil keeps the default.
func WithHTTPClient(h *http.Client) SenderOption {
	return func(s *Sender) {
		if h != nil {
			s.HTTP = h
		}
	}
}

// WithLogger sets where exchanges are logged at debug level; nil keeps the
// default, which discards. Pass an entry carrying the tenant and task
// fields so that every line has them.
func WithLogger(l logrus.FieldLogger) SenderOption {
	return func(s *Sender) {
		if l != nil {
			s.Log = l
		}
	}
}

// WithMaxAnswer sets the bound on one answer in bytes; 0 or less keeps
// DefaultMaxAnswer.
func WithMaxAnswer(n int64) SenderOption {
	return func(s *Sender) {
		if n > 0 {
			s.MaxAnswer = n
		}
	}
}

// DiscardLogger is the default logger of clients and decorators: its own
// logrus.Logger writing to io.Discard, so that nothing touches logrus's
// global logger.
func DiscardLogger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	return l
}

// Send performs r and reads the whole answer, at most MaxAnswer bytes. It
// fails with an *Error of op: ErrInvalid when r cannot be built, ErrConnection
// when the PSA cannot be reached or the answer cannot be read (ctx's own
// error stays inside it), and ErrInvalid carrying an *AnswerTooLargeError
// when the answer is over the bound. Any status is returned as an Answer:
// classifying it is the vendor's job.
func (s Sender) Send(ctx context.Context, op string, r Request) (Answer, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return Answer{}, &Error{Op: op, Kind: ErrInvalid, Err: fmt.Errorf("build request: %w", err)}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	fields := logrus.Fields{"op": op, "method": r.Method, "path": req.URL.Path}
	start := time.Now()
	resp, err := s.HTTP.Do(req)
	if err != nil {
		s.Log.WithFields(fields).WithField("duration", time.Since(start)).WithError(err).Debug(s.Vendor + " request failed")
		return Answer{}, &Error{Op: op, Kind: ErrConnection, Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.MaxAnswer+1))
	s.Log.WithFields(fields).WithFields(logrus.Fields{"status": resp.StatusCode, "bytes": len(data), "duration": time.Since(start)}).
		Debug(s.Vendor + " request")
	if err != nil {
		return Answer{}, &Error{Op: op, Kind: ErrConnection, StatusCode: resp.StatusCode, Err: fmt.Errorf("read answer: %w", err)}
	}
	if int64(len(data)) > s.MaxAnswer {
		return Answer{}, &Error{Op: op, Kind: ErrInvalid, StatusCode: resp.StatusCode,
			Err: &AnswerTooLargeError{Limit: s.MaxAnswer, Size: resp.ContentLength}}
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// IsAnswerTooLarge reports whether err says a PSA answer was over its
// client's bound.
func IsAnswerTooLarge(err error) bool {
	var e *AnswerTooLargeError
	return errors.As(err, &e)
}
