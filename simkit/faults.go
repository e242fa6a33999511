package simkit

import (
	"net/http"
	"sync"
)

// Faults is the ordered list of a simulator's injected faults; the first
// matching fault applies. The zero value is empty and ready; it is safe for
// concurrent use.
type Faults struct {
	mu   sync.Mutex
	list []*armedFault
}

// armedFault is an injected fault and how many hits it has left.
type armedFault struct {
	Fault
	left int // remaining hits when Count > 0
}

// Inject adds f after the faults already injected.
func (l *Faults) Inject(f Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, &armedFault{Fault: f, left: f.Count})
}

// Clear removes every fault.
func (l *Faults) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = nil
}

// Take returns the first fault matching r for tenant ("" when the simulator
// has no tenants) and uses up one of its hits.
func (l *Faults) Take(r *http.Request, tenant string) (Fault, bool) {
	return l.TakeFunc(func(f Fault) bool { return f.Matches(r.Method, r.URL.Path, tenant) })
}

// TakeFunc returns the first fault match accepts and uses up one of its
// hits, for simulators with their own matching rules.
func (l *Faults) TakeFunc(match func(Fault) bool) (Fault, bool) {
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
