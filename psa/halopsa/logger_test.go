package halopsa_test

import (
	"io"
	"log/slog"
	"sync"
)

// lockedWriter serialises writes from concurrent requests.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newTestLogger logs everything, debug included, as text into w.
func newTestLogger(w io.Writer, mu *sync.Mutex) *slog.Logger {
	h := slog.NewTextHandler(lockedWriter{mu: mu, w: w}, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h)
}
