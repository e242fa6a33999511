package ledger

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Recorder appends entries from a background goroutine in batches, so a
// run's PSA writes do not wait for the change log: Add hands an entry over
// (blocking only while a full buffer drains), and Close flushes what is left
// and reports what could not be appended. Use one per run; a per-user job
// with one or two entries calls Append directly.
type Recorder struct {
	l     *Ledger
	ctx   context.Context
	in    chan Entry
	done  chan struct{}
	batch int
	every time.Duration

	mu     sync.Mutex
	failed int
	first  error
}

// Recorder defaults.
const (
	// DefaultRecorderBatch is the largest batch one Append carries.
	DefaultRecorderBatch = 500
	// DefaultRecorderEvery is how long an entry may wait for its batch.
	DefaultRecorderEvery = time.Second
)

// NewRecorder starts a recorder whose appends run under ctx; batch and
// every of 0 take the defaults. Close must be called.
func (l *Ledger) NewRecorder(ctx context.Context, batch int, every time.Duration) *Recorder {
	if batch <= 0 {
		batch = DefaultRecorderBatch
	}
	if every <= 0 {
		every = DefaultRecorderEvery
	}
	r := &Recorder{l: l, ctx: ctx, in: make(chan Entry, 2*batch), done: make(chan struct{}), batch: batch, every: every}
	go r.loop()
	return r
}

// Add queues one entry; it must not be called after Close.
func (r *Recorder) Add(e Entry) {
	if e.Time.IsZero() {
		e.Time = r.l.now() // the time of the write, not of the flush
	}
	r.in <- e
}

func (r *Recorder) loop() {
	defer close(r.done)
	buf := make([]Entry, 0, r.batch)
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	flush := func() {
		if len(buf) == 0 {
			return
		}
		if err := r.l.Append(r.ctx, buf...); err != nil {
			r.mu.Lock()
			r.failed += len(buf)
			if r.first == nil {
				r.first = err
			}
			r.mu.Unlock()
		}
		buf = buf[:0]
	}
	for {
		select {
		case e, ok := <-r.in:
			if !ok {
				flush()
				return
			}
			buf = append(buf, e)
			if len(buf) == r.batch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// Close appends what is queued, stops the goroutine and returns an error
// naming how many entries could not be appended (nil when none).
func (r *Recorder) Close() error {
	close(r.in)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed > 0 {
		return fmt.Errorf("record changes: %d entries not appended: %w", r.failed, r.first)
	}
	return nil
}
