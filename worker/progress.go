package worker

import "time"

// Progress is a snapshot of a run under way, so a CLI or console can show
// how far a long run has got and what it is waiting for.
type Progress struct {
	RunID  string
	Tenant string
	// Phase is one of the Phase* constants.
	Phase string
	// UsersEnumerated counts the users read from Graph so far.
	UsersEnumerated int
	// Planned counts the PSA writes the run has decided to make.
	Planned int
	// Written counts planned writes done (failed ones included in Failed).
	Written int
	// Failed counts planned writes that failed.
	Failed int
	// Waiting says why the run is paused ("" when it is not), for example
	// "psa quota" or "graph throttled"; WaitUntil is when it resumes.
	Waiting   string
	WaitUntil time.Time
	// Started is when the run began.
	Started time.Time
}

// Left is how many planned writes are still to be made.
func (p Progress) Left() int { return max(0, p.Planned-p.Written-p.Failed) }

// Phases of a run, in order.
const (
	PhaseEnumerating = "enumerating"
	PhaseReading     = "reading contacts"
	PhasePlanning    = "planning"
	PhaseApplying    = "applying"
	PhaseDone        = "done"
)

// ProgressFunc receives snapshots of a run. It is called from the run's
// goroutines, often: it must be quick and must not block.
type ProgressFunc func(Progress)
