package simkit

import (
	"net/http"
	"sync"
	"time"
)

// Recorded is one API call as a simulator saw and answered it, for contract
// tests that validate both sides against the vendor's OpenAPI document and
// for tests that assert what a client sent.
type Recorded struct {
	Method         string
	Path           string
	RawQuery       string
	Header         http.Header
	Body           []byte
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
	// Injected is true when the answer came from an injected Fault rather
	// than from the simulated API.
	Injected bool
	// At is when the call was answered.
	At time.Time
}

// MaxRecordBytes bounds the bodies a Recorder keeps, so that a long-running
// standalone simulator does not grow without end (query pages are large).
const MaxRecordBytes = 64 << 20

// Recorder keeps the most recent calls a simulator answered; it is safe for
// concurrent use.
type Recorder struct {
	mu    sync.Mutex
	limit int
	recs  []Recorded // recs[head:] are kept, oldest first
	head  int
	bytes int // body bytes of recs[head:]
}

// NewRecorder keeps at most limit calls (the newest win) and at most
// MaxRecordBytes of bodies; a limit of 0 or less keeps none.
func NewRecorder(limit int) *Recorder { return &Recorder{limit: limit} }

// Add keeps rec, dropping the oldest calls past the limits. A call its
// client abandoned (StatusClientClosed) is not kept: nothing was answered.
func (r *Recorder) Add(rec Recorded) {
	if r.limit <= 0 || rec.Status == StatusClientClosed {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	r.bytes += bodySize(rec)
	for n := len(r.recs) - r.head; n > r.limit || (n > 1 && r.bytes > MaxRecordBytes); n-- {
		r.bytes -= bodySize(r.recs[r.head])
		r.recs[r.head] = Recorded{}
		r.head++
	}
	if r.head > 0 && r.head*2 >= len(r.recs) {
		r.recs, r.head = append([]Recorded(nil), r.recs[r.head:]...), 0
	}
}

// Requests returns the kept calls, oldest first.
func (r *Recorder) Requests() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Recorded(nil), r.recs[r.head:]...)
}

// Reset forgets every kept call.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs, r.head, r.bytes = nil, 0, 0
}

func bodySize(rec Recorded) int { return len(rec.Body) + len(rec.ResponseBody) }
