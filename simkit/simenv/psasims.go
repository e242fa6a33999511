package simenv

import (
	"net/http"
	"time"

	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/halopsa/halosim"
)

// Contact is a PSA contact as demos and tests seed and read it, whatever
// the simulated PSA.
type Contact struct {
	ID             int
	CompanyID      int
	FirstName      string
	LastName       string
	Email          string
	Phone          string
	MobilePhone    string
	Title          string
	Department     string
	OfficeLocation string
	ContactType    string
	ExternalID     string
	Inactive       bool
}

// Fault is an injected PSA failure, whatever the simulated PSA.
type Fault struct {
	Method       string
	PathContains string
	Status       int
	RetryAfter   string
	Count        int
	Latency      time.Duration
}

// Stats are a PSA simulator's request counts.
type Stats struct {
	Reads, Writes, Requests, Throttled, Errors int
}

// PSASim is the common face of the three PSA simulators, so demos, tests
// and benchmarks treat them alike.
type PSASim interface {
	http.Handler
	// Name is the PSA type: connectwise, autotask or halopsa.
	Name() string
	SetURL(url string)
	// Root is the server root, where /_sim/stats and /_sim/faults live.
	Root() string
	// BaseURL is what the PSA client's config needs.
	BaseURL() string
	AddCompany(id int, name string)
	Seed(c Contact) int
	Contacts(companyID int) []Contact
	Contact(id int) (Contact, bool)
	InjectFault(f Fault)
	ClearFaults()
	Stats() Stats
	ResetStats()
}

type cwAdapter struct{ *cwsim.Sim }

func (a cwAdapter) Name() string      { return "connectwise" }
func (a cwAdapter) SetURL(url string) { a.Sim.URL = url }
func (a cwAdapter) Root() string      { return a.Sim.URL }
func (a cwAdapter) Seed(c Contact) int {
	return a.SeedContact(cwsim.SeedContact{ID: c.ID, CompanyID: c.CompanyID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Phone: c.Phone, MobilePhone: c.MobilePhone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive})
}
func (a cwAdapter) Contacts(company int) []Contact {
	var out []Contact
	for _, c := range a.Sim.Contacts(company) {
		out = append(out, fromCW(c))
	}
	return out
}
func (a cwAdapter) Contact(id int) (Contact, bool) {
	c, ok := a.Sim.Contact(id)
	return fromCW(c), ok
}
func fromCW(c cwsim.SeedContact) Contact {
	return Contact{ID: c.ID, CompanyID: c.CompanyID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		MobilePhone: c.MobilePhone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive}
}
func (a cwAdapter) InjectFault(f Fault) {
	a.Sim.InjectFault(cwsim.Fault{Method: f.Method, PathContains: f.PathContains, Status: f.Status, RetryAfter: f.RetryAfter, Count: f.Count, Latency: f.Latency})
}
func (a cwAdapter) Stats() Stats {
	s := a.Sim.Stats()
	return Stats{Reads: s.Reads, Writes: s.Writes, Requests: s.Requests, Throttled: s.Throttled, Errors: s.Errors}
}

type atAdapter struct{ *atsim.Sim }

func (a atAdapter) Name() string      { return "autotask" }
func (a atAdapter) SetURL(url string) { a.Sim.URL = url }
func (a atAdapter) Root() string      { return a.Sim.URL }
func (a atAdapter) Seed(c Contact) int {
	return a.SeedContact(atsim.SeedContact{ID: c.ID, CompanyID: c.CompanyID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Phone: c.Phone, MobilePhone: c.MobilePhone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive})
}
func (a atAdapter) Contacts(company int) []Contact {
	var out []Contact
	for _, c := range a.Sim.Contacts(company) {
		out = append(out, fromAT(c))
	}
	return out
}
func (a atAdapter) Contact(id int) (Contact, bool) {
	c, ok := a.Sim.Contact(id)
	return fromAT(c), ok
}
func fromAT(c atsim.SeedContact) Contact {
	return Contact{ID: c.ID, CompanyID: c.CompanyID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		MobilePhone: c.MobilePhone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive}
}
func (a atAdapter) InjectFault(f Fault) {
	a.Sim.InjectFault(atsim.Fault{Method: f.Method, PathContains: f.PathContains, Status: f.Status, RetryAfter: f.RetryAfter, Count: f.Count, Latency: f.Latency})
}
func (a atAdapter) Stats() Stats {
	s := a.Sim.Stats()
	return Stats{Reads: s.Reads, Writes: s.Writes, Requests: s.Requests, Throttled: s.Throttled, Errors: s.Errors}
}

type haloAdapter struct{ *halosim.Sim }

func (a haloAdapter) Name() string      { return "halopsa" }
func (a haloAdapter) SetURL(url string) { a.Sim.URL = url }
func (a haloAdapter) Root() string      { return a.Sim.URL }
func (a haloAdapter) Seed(c Contact) int {
	return a.SeedContact(halosim.SeedContact{ID: c.ID, CompanyID: c.CompanyID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Phone: c.Phone, MobilePhone: c.MobilePhone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive})
}
func (a haloAdapter) Contacts(company int) []Contact {
	var out []Contact
	for _, c := range a.Sim.Contacts(company) {
		out = append(out, fromHalo(c))
	}
	return out
}
func (a haloAdapter) Contact(id int) (Contact, bool) {
	c, ok := a.Sim.Contact(id)
	return fromHalo(c), ok
}
func fromHalo(c halosim.SeedContact) Contact {
	return Contact{ID: c.ID, CompanyID: c.CompanyID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		MobilePhone: c.MobilePhone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive}
}
func (a haloAdapter) InjectFault(f Fault) {
	a.Sim.InjectFault(halosim.Fault{Method: f.Method, PathContains: f.PathContains, Status: f.Status, RetryAfter: f.RetryAfter, Count: f.Count, Latency: f.Latency})
}
func (a haloAdapter) Stats() Stats {
	s := a.Sim.Stats()
	return Stats{Reads: s.Reads, Writes: s.Writes, Requests: s.Requests, Throttled: s.Throttled, Errors: s.Errors}
}

// QuotaUsed is how many requests Autotask counts in its current rolling hour.
func (a atAdapter) QuotaUsed() int { return a.Sim.Stats().QuotaUsed }
