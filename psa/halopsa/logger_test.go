package halopsa_test

import (
	"io"
	"sync"

	"github.com/sirupsen/logrus"
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
func newTestLogger(w io.Writer, mu *sync.Mutex) *logrus.Logger {
	l := logrus.New()
	l.Out = lockedWriter{mu: mu, w: w}
	l.Level = logrus.DebugLevel
	l.Formatter = &logrus.TextFormatter{DisableColors: true}
	return l
}
