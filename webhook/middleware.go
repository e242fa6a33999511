package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
)

// requestIDHeader carries the request id in both directions: a well-formed
// incoming value is kept (so a proxy's id follows the request), otherwise
// one is made.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an incoming request id.
const maxRequestIDLen = 64

// observe is the outermost middleware: it assigns the request id, and after
// the handler records the duration metric and writes one access log line
// (debug level, warning for 5xx). It never logs query strings or bodies, so
// validation tokens, clientState and credentials stay out of the logs.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader(requestIDHeader)
	if !validRequestID(id) {
		id = s.idPrefix + "-" + strconv.FormatUint(s.idSeq.Add(1), 36)
	}
	c.Writer.Header().Set(requestIDHeader, id)

	c.Next()

	elapsed := time.Since(start)
	status := c.Writer.Status()
	s.metrics.observe(c.FullPath(), c.Request.Method, status, elapsed.Seconds())

	level := logrus.DebugLevel
	if status >= http.StatusInternalServerError {
		level = logrus.WarnLevel
	}
	if !levelEnabled(s.log, level) {
		return
	}
	entry := s.log.WithFields(logrus.Fields{
		"request_id":  id,
		"method":      c.Request.Method,
		"path":        c.Request.URL.Path,
		"status":      status,
		"duration_ms": float64(elapsed.Microseconds()) / 1000,
		"bytes_out":   c.Writer.Size(),
		"client_ip":   c.ClientIP(),
	})
	if level == logrus.WarnLevel {
		entry.Warn("http request")
	} else {
		entry.Debug("http request")
	}
}

// recoverPanic turns a handler panic into a logged 500 with the envelope.
// http.ErrAbortHandler is re-raised: it is net/http's way to drop a
// connection on purpose.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(r)
		}
		s.log.WithFields(logrus.Fields{
			"request_id": requestID(c),
			"stack":      string(debug.Stack()),
		}).Errorf("webhook: handler panic: %v", r)
		if c.Writer.Written() {
			c.Abort()
			return
		}
		s.writeError(c, fmt.Errorf("webhook: handler panic: %v", r))
	}()
	c.Next()
}

// requestID returns the id observe assigned ("" outside a request). It is
// read back from the response header, which saves a context map per
// request.
func requestID(c *gin.Context) string {
	return c.Writer.Header().Get(requestIDHeader)
}

// validRequestID accepts short ids of letters, digits, '-', '_' and '.',
// so a client-sent id cannot forge log fields or grow without bound.
func validRequestID(id string) bool { return validID(id, maxRequestIDLen, "-_.") }

// validID reports whether id is 1 to max ASCII letters, digits and bytes
// of punct: the one rule for ids that reach logs and keys from outside.
func validID(id string, max int, punct string) bool {
	if id == "" || len(id) > max {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			strings.IndexByte(punct, ch) >= 0:
		default:
			return false
		}
	}
	return true
}
