package simkit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxBody bounds the request bodies a simulator reads.
const MaxBody = 4 << 20

// ErrBodyTooLarge is returned by ReadBody for a body over MaxBody, so that a
// simulator can answer 413 the way its vendor does.
var ErrBodyTooLarge = errors.New("simkit: request body too large")

// BodyStatus is the status to answer a body ReadBody refused with: 413 when
// it is too large, 400 when it could not be read.
func BodyStatus(err error) int {
	if errors.Is(err, ErrBodyTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// ReadBody reads r's body once, bounded by MaxBody, so that it can be both
// served and recorded.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(b) > MaxBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}
