package simkit

import (
	"context"
	"time"
)

// StatusClientClosed is recorded for a request whose client left while the
// simulator was delaying it (nginx's 499); nothing is sent.
const StatusClientClosed = 499

// Sleep waits for d or until ctx ends, so that a slow simulated answer gives
// way to a client that gave up; it reports whether the wait completed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
