package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxPooledBody is the largest buffer returned to the pool; rarer big
// bodies are left to the garbage collector instead of pinning memory.
const maxPooledBody = 64 << 10

// readJSONBody checks the Content-Type (415), bounds the body by
// MaxBodyBytes (413) and reads it into a pooled buffer the caller hands back
// with releaseBody once decoding is done. With allowEmpty, a request that
// declares no body (Content-Length 0) skips the Content-Type check and
// yields an empty buffer.
func (s *Server) readJSONBody(c *gin.Context, allowEmpty bool) (*bytes.Buffer, error) {
	r := c.Request
	if allowEmpty && r.ContentLength == 0 {
		return s.getBuffer(), nil
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return nil, errUnsupportedMediaType
	}
	max := s.cfg.MaxBodyBytes
	if r.ContentLength > max {
		return nil, fmt.Errorf("content-length %d over %d: %w", r.ContentLength, max, errTooLarge)
	}
	buf := s.getBuffer()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(c.Writer, r.Body, max)); err != nil {
		s.releaseBody(buf)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("body over %d bytes: %w", max, errTooLarge)
		}
		return nil, fmt.Errorf("read body: %w", &RequestError{Message: "could not read the request body"})
	}
	return buf, nil
}

func (s *Server) getBuffer() *bytes.Buffer {
	buf, ok := s.bodies.Get().(*bytes.Buffer)
	if !ok {
		return new(bytes.Buffer)
	}
	buf.Reset()
	return buf
}

// releaseBody returns buf to the pool. Decoded values never alias it:
// encoding/json copies every string it produces.
func (s *Server) releaseBody(buf *bytes.Buffer) {
	if buf != nil && buf.Cap() <= maxPooledBody {
		s.bodies.Put(buf)
	}
}

// isJSONContentType accepts application/json with an optional UTF-8
// charset (JSON is UTF-8 by definition, RFC 8259), the way Graph sends it.
func isJSONContentType(v string) bool {
	switch v {
	case "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8":
		return true
	case "":
		return false
	}
	mediaType, params, err := mime.ParseMediaType(v)
	if err != nil || mediaType != "application/json" {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return true
}
