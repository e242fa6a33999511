package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
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

// readObject reads the request's optional JSON body (readJSONBody, empty
// allowed) and hands it to decode. A failure of either is answered;
// readObject reports whether both went well.
func (s *Server) readObject(c *gin.Context, decode func(body []byte) error) bool {
	buf, err := s.readJSONBody(c, true)
	if err == nil {
		err = decode(buf.Bytes())
		s.releaseBody(buf)
	}
	if err != nil {
		s.writeError(c, err)
		return false
	}
	return true
}

// decodeBody reads the request's optional JSON object body into dst, whose
// json names are fields (decodeFields); a failure is answered and
// decodeBody reports whether it went well.
func (s *Server) decodeBody(c *gin.Context, dst any, fields ...string) bool {
	return s.readObject(c, func(body []byte) error { return decodeFields(body, dst, fields...) })
}

// decodeObject splits a body that is exactly one JSON object into its
// fields, under their exact names (unlike encoding/json's case-insensitive
// matching); an empty body has none. Any other body is a 400 saying why,
// without quoting it.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("decode body: %w: %w", &RequestError{Message: bodyErrorMessage(err)}, err)
	}
	if fields == nil {
		return nil, &RequestError{Message: "request body must be a JSON object"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &RequestError{Message: "unexpected data after the JSON object"}
	}
	return fields, nil
}

// decodeFields decodes a JSON object body into dst, whose json names are
// fields; an empty body leaves dst as it is. An unknown field or a value
// of the wrong type is a 400 naming it.
func decodeFields(body []byte, dst any, fields ...string) error {
	got, err := decodeObject(body)
	if err != nil || len(got) == 0 {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if !slices.Contains(fields, k) {
			return BadRequest("unknown field %q (want %s)", clip(k, maxFieldNameEcho), strings.Join(fields, ", "))
		}
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return BadRequest("field %q must be %s, got %s", typeErr.Field, typeErr.Type.String(), typeErr.Value)
		}
		return fmt.Errorf("decode body: %w: %w", &RequestError{Message: bodyErrorMessage(err)}, err)
	}
	return nil
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
