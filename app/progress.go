package app

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/term"

	"github.com/psasync/psasync/worker"
)

// ProgressMode says how `psasync sync` shows a run's progress on stderr.
type ProgressMode string

// Progress modes.
const (
	// ProgressAuto draws a live line on a terminal and logs a progress line
	// every few seconds otherwise.
	ProgressAuto ProgressMode = "auto"
	// ProgressAlways draws the live line even when stderr is not a terminal.
	ProgressAlways ProgressMode = "always"
	// ProgressNever shows no progress.
	ProgressNever ProgressMode = "never"
)

// ParseProgressMode checks a --progress value.
func ParseProgressMode(s string) (ProgressMode, error) {
	switch m := ProgressMode(s); m {
	case ProgressAuto, ProgressAlways, ProgressNever:
		return m, nil
	}
	return "", badConfig(fmt.Errorf("%q is not auto, always or never", s))
}

// Intervals of the two progress displays.
const (
	liveEvery = 250 * time.Millisecond
	logEvery  = 5 * time.Second
)

// progressPrinter shows worker.Progress snapshots: Update stores the newest
// (cheap, never blocks on output); a ticker draws it.
type progressPrinter struct {
	w     io.Writer
	live  bool // a carriage-return line; else log lines
	log   logrus.FieldLogger
	now   func() time.Time
	every time.Duration

	mu      sync.Mutex
	last    worker.Progress
	seen    bool
	drawn   bool
	applyAt time.Time // when the run was first seen applying
	applyN  int       // writes done by then
	width   int       // length of the last live line, to blank its tail

	stop chan struct{}
	done chan struct{}
}

// newProgressPrinter starts a printer for mode; a printer for
// ProgressNever ignores every update.
func newProgressPrinter(w io.Writer, mode ProgressMode, tty bool, log logrus.FieldLogger) *progressPrinter {
	p := &progressPrinter{w: w, log: log, now: time.Now}
	switch {
	case mode == ProgressNever:
		return p
	case mode == ProgressAlways || tty:
		p.live, p.every = true, liveEvery
	default:
		p.every = logEvery
	}
	p.start()
	return p
}

func (p *progressPrinter) start() {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
}

// Update records the newest snapshot; it is the run's worker.ProgressFunc.
func (p *progressPrinter) Update(s worker.Progress) {
	if p.stop == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Phase == worker.PhaseApplying && p.applyAt.IsZero() {
		p.applyAt, p.applyN = p.now(), s.Written+s.Failed
	}
	p.last, p.seen = s, true
}

// Done stops the display and finishes its line: the last state once more,
// then a newline after a live line.
func (p *progressPrinter) Done() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.draw()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.drawn {
		fmt.Fprintln(p.w)
	}
}

func (p *progressPrinter) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.seen {
		return
	}
	now := p.now()
	line := progressLine(p.last, now, p.eta(now))
	if !p.live {
		p.log.WithFields(progressFields(p.last, now, p.eta(now))).Info("sync progress")
		return
	}
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.width, p.drawn = len(line), true
}

// eta estimates when the planned writes are done, from the write rate
// since applying began; a quota wait that ends later pushes it back. 0
// means unknown.
func (p *progressPrinter) eta(now time.Time) time.Duration {
	s := p.last
	left := s.Left()
	if s.Phase != worker.PhaseApplying || p.applyAt.IsZero() {
		return 0
	}
	if left == 0 {
		return 0
	}
	doneSince := s.Written + s.Failed - p.applyN
	elapsed := now.Sub(p.applyAt)
	if doneSince <= 0 || elapsed <= 0 {
		return 0
	}
	eta := time.Duration(float64(elapsed) / float64(doneSince) * float64(left))
	if s.Waiting != "" && s.WaitUntil.After(now) {
		eta = max(eta, s.WaitUntil.Sub(now))
	}
	return eta.Round(time.Second)
}

// progressLine is the human form of a snapshot:
//
//	applying: 1500 users enumerated, 400 planned, 120 written, 280 left · waiting: psa quota (12s) · ETA 3m10s
func progressLine(s worker.Progress, now time.Time, eta time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d users enumerated, %d planned, %d written, %d left", s.Phase, s.UsersEnumerated, s.Planned, s.Written, s.Left())
	if s.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", s.Failed)
	}
	if s.Waiting != "" {
		fmt.Fprintf(&b, " · waiting: %s", s.Waiting)
		if s.WaitUntil.After(now) {
			fmt.Fprintf(&b, " (%s)", s.WaitUntil.Sub(now).Round(time.Second))
		}
	}
	if eta > 0 {
		fmt.Fprintf(&b, " · ETA %s", eta)
	}
	return b.String()
}

// progressFields is a snapshot as log fields.
func progressFields(s worker.Progress, now time.Time, eta time.Duration) logrus.Fields {
	f := logrus.Fields{"run": s.RunID, "tenant": s.Tenant, "phase": s.Phase, "users_enumerated": s.UsersEnumerated,
		"planned": s.Planned, "written": s.Written, "left": s.Left(), "failed": s.Failed}
	if s.Waiting != "" {
		f["waiting"] = s.Waiting
		if s.WaitUntil.After(now) {
			f["wait_s"] = int(s.WaitUntil.Sub(now).Round(time.Second).Seconds())
		}
	}
	if eta > 0 {
		f["eta"] = eta.String()
	}
	return f
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
