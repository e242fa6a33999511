package simkit

import (
	"bytes"
	"net/http"
	"time"
)

// Capture passes a simulator's answer through to the client while keeping a
// copy, so that the call can be counted and recorded after it was answered.
type Capture struct {
	http.ResponseWriter
	// Injected marks an answer written for an injected Fault.
	Injected bool

	status int
	wrote  bool
	header http.Header
	body   bytes.Buffer
}

// NewCapture captures what is written to w.
func NewCapture(w http.ResponseWriter) *Capture {
	return &Capture{ResponseWriter: w, status: http.StatusOK}
}

// WriteHeader sends the status and keeps it with the headers as sent.
func (c *Capture) WriteHeader(status int) {
	if c.wrote {
		return
	}
	c.wrote, c.status = true, status
	c.header = c.Header().Clone()
	c.ResponseWriter.WriteHeader(status)
}

// Write sends b and keeps a copy.
func (c *Capture) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

// Abandon records that the client left before an answer (StatusClientClosed);
// nothing more is sent.
func (c *Capture) Abandon() { c.wrote, c.status = true, StatusClientClosed }

// Abandoned reports whether the client left before an answer.
func (c *Capture) Abandoned() bool { return c.status == StatusClientClosed }

// Status is the status sent (200 when the handler wrote none).
func (c *Capture) Status() int { return c.status }

// Body is a copy of the body sent so far.
func (c *Capture) Body() []byte { return bytes.Clone(c.body.Bytes()) }

// Recorded describes the call: r with its body as read, and the captured
// answer.
func (c *Capture) Recorded(r *http.Request, body []byte) Recorded {
	header := c.header
	if header == nil {
		header = c.Header()
	}
	return Recorded{
		Method:         r.Method,
		Path:           r.URL.Path,
		RawQuery:       r.URL.RawQuery,
		Header:         r.Header.Clone(),
		Body:           bytes.Clone(body),
		Status:         c.status,
		ResponseHeader: header.Clone(),
		ResponseBody:   c.Body(),
		Injected:       c.Injected,
		At:             time.Now().UTC(),
	}
}
