package simkit

import (
	"net/http"
	"sync"
)

// Faults is the ordered list of a simulator's injected faults; the first
// matching fault applies. Simulators embed it, so that InjectFault and
// ClearFaults are theirs, and answer requests through Strike. The zero
// value is empty and ready; it is safe for concurrent use.
type Faults struct {
	mu   sync.Mutex
	list []*armedFault
}

// armedFault is an injected fault and how many hits it has left.
type armedFault struct {
	Fault
	left int // remaining hits when Count > 0
}

// InjectFault adds f after the faults already injected.
func (l *Faults) InjectFault(f Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, &armedFault{Fault: f, left: f.Count})
}

// ClearFaults removes every injected fault.
func (l *Faults) ClearFaults() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = nil
}

// Matching accepts the faults that apply to r for tenant ("" when the
// simulator has no tenants); simulators with their own rules add to it.
func Matching(r *http.Request, tenant string) func(Fault) bool {
	return func(f Fault) bool { return f.Matches(r.Method, r.URL.Path, tenant) }
}

// Strike applies the first fault of l that match accepts to the request
// answered through w: it uses up one of the fault's hits and waits out its
// latency, abandoning w when the client leaves meanwhile. It returns the
// fault the simulator must answer with (marking w Injected), and false when
// there is none to answer with: no match, a latency-only fault, or the
// client gone (see Capture.Abandoned).
func Strike(l *Faults, w *Capture, r *http.Request, match func(Fault) bool) (Fault, bool) {
	f, ok := l.take(match)
	if !ok {
		return Fault{}, false
	}
	if !Sleep(r.Context(), f.Latency) {
		w.Abandon()
		return Fault{}, false
	}
	if f.Status == 0 {
		return Fault{}, false
	}
	w.Injected = true
	return f, true
}

// take returns the first fault match accepts and uses up one of its hits.
func (l *Faults) take(match func(Fault) bool) (Fault, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, af := range l.list {
		if !match(af.Fault) {
			continue
		}
		if af.Count > 0 {
			af.left--
			if af.left <= 0 {
				l.list = append(l.list[:i:i], l.list[i+1:]...)
			}
		}
		return af.Fault, true
	}
	return Fault{}, false
}
