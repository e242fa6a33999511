// Package psatest is the conformance suite of psa.Client, in the manner of
// river's riverdrivertest: every vendor client runs it against its own
// simulator over real HTTP, so the engine can rely on one behaviour whatever
// the PSA. A vendor's test gives Run a Harness (a Setup that starts a fresh
// simulator behind the suite's Front and returns a client for it, plus a few
// functions to seed, inspect and break that simulator); the suite does the
// rest. See psa/README.md.
package psatest

import (
	"testing"
	"time"

	"github.com/psasync/psasync/psa"
)

// Departments are the department names the suite writes; a simulator that
// resolves departments by name (ConnectWise) must know both.
func Departments() []string { return []string{"Sales", "Support"} }

// FaultKind is a failure the suite asks a simulator to answer with, in the
// vendor's own wire form.
type FaultKind int

// The failures Sim.Fail must produce.
const (
	// FaultPermission: the credentials are refused or lack a right
	// (ConnectWise 401/403, Autotask 401, Halo 403). Expect
	// psa.ErrPermission.
	FaultPermission FaultKind = iota + 1
	// FaultRateLimited: the vendor's rate-limit answer carrying a
	// Retry-After of Fault.RetryAfter. Expect psa.ErrRateLimited with that
	// delay.
	FaultRateLimited
	// FaultUnavailable: the PSA is down behind its front door (503).
	// Expect psa.ErrConnection.
	FaultUnavailable
	// FaultInvalid: the PSA refuses the request's content with its
	// validation answer and a message. Expect psa.ErrInvalid carrying the
	// vendor's words.
	FaultInvalid
)

// Fault is one failure for Sim.Fail.
type Fault struct {
	Kind FaultKind
	// RetryAfter is the delay a FaultRateLimited answer announces, in
	// whole seconds.
	RetryAfter time.Duration
}

// Sim is how the suite drives a vendor's simulator. Contacts go in and come
// out in psa's neutral form; the vendor's test converts them to and from
// the simulator's own terms.
type Sim struct {
	// Company and OtherCompany are two companies the simulator has, with
	// no contacts yet.
	Company, OtherCompany string
	// Seed stores a contact as if someone had created it in the PSA
	// (bypassing the API) and returns its id.
	Seed func(c psa.Contact) string
	// Stored reads a contact back from the simulator's store (not through
	// the API), and whether it exists.
	Stored func(id string) (psa.Contact, bool)
	// Fail makes the next contact API request (not a token or zone lookup)
	// answer with f, once.
	Fail func(f Fault)
	// Reads and Writes are the simulator's counts of API reads (list, get,
	// query) and writes (create, update) so far.
	Reads, Writes func() int
}

// Harness is what a vendor's test hands to Run.
type Harness struct {
	// Setup starts a fresh simulator served through front (front.Serve),
	// and returns a client configured for it with pages of PageSize and an
	// answer bound of MaxAnswer, and the Sim that drives it. Setup runs
	// once per subtest.
	Setup func(t *testing.T, front *Front) (psa.Client, Sim)
	// PageSize is the client's configured page size; the suite lists more
	// than two pages.
	PageSize int
	// MaxAnswer is the client's configured answer bound in bytes.
	MaxAnswer int64
}

// Run checks every behaviour the sync engine relies on from a psa.Client:
// create, get, pages of a company, find by email, find by object id,
// updates that write only the changed fields, deactivate, reactivate, and the error classes for a
// duplicate, a missing contact, a refused permission, a rate limit with its
// retry delay, a connection failure, a validation failure and an oversized
// answer. Every check is its own parallel subtest with a fresh simulator.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Setup == nil || h.PageSize <= 0 || h.MaxAnswer <= 0 {
		t.Fatal("psatest: Harness needs Setup, PageSize and MaxAnswer")
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}
