package simenv

import (
	"fmt"
	"net/http"
	"time"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/halopsa/halosim"
	"github.com/psasync/psasync/simkit"
)

// Contact is a PSA contact as demos and tests seed and read it, whatever
// the simulated PSA.
type Contact = simkit.Contact

// Company is a PSA company with its contacts as onboarding demos and tests
// seed and read it, whatever the simulated PSA.
type Company = simkit.Company

// Fault is an injected PSA failure, whatever the simulated PSA.
type Fault = simkit.Fault

// Stats are a PSA simulator's request counts.
type Stats = simkit.Stats

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
	// SeedCompany stores a company (website, tenant id in the vendor's
	// tenant-id field, inactive flag) with its contacts and returns its id;
	// it is quick enough to seed thousands.
	SeedCompany(c Company) int
	// Company reads a company back (without contacts).
	Company(id int) (Company, bool)
	Seed(c Contact) int
	Contacts(companyID int) []Contact
	Contact(id int) (Contact, bool)
	InjectFault(f Fault)
	ClearFaults()
	Stats() Stats
	ResetStats()
}

// kitSim is what the three PSA simulators share through simkit.
type kitSim interface {
	http.Handler
	SetURL(url string)
	Root() string
	BaseURL() string
	AddCompany(id int, name string)
	SeedCompany(c simkit.Company) int
	Company(id int) (simkit.Company, bool)
	SeedContact(c simkit.Contact) int
	Contacts(companyID int) []simkit.Contact
	Contact(id int) (simkit.Contact, bool)
	InjectFault(f simkit.Fault)
	ClearFaults()
	ResetStats()
}

// psaSim is a PSA simulator as a PSASim.
type psaSim struct {
	kitSim
	name  string
	stats func() simkit.Stats
}

func (p *psaSim) Name() string       { return p.name }
func (p *psaSim) Seed(c Contact) int { return p.SeedContact(c) }
func (p *psaSim) Stats() Stats       { return p.stats() }

// vendorSim returns the simulator behind a PSASim built by newPSASim, for
// the vendor-specific setup (ConnectWise departments, the Autotask zone).
func vendorSim(p PSASim) kitSim {
	switch p := p.(type) {
	case *psaSim:
		return p.kitSim
	case meteredSim:
		return p.kitSim
	}
	return nil
}

// meteredSim is a PSA simulator whose vendor meters requests per rolling
// hour (Autotask); benchmarks read its QuotaUsed.
type meteredSim struct {
	*psaSim
	quotaUsed func() int
}

// QuotaUsed is how many requests the vendor counts in its current rolling
// hour.
func (q meteredSim) QuotaUsed() int { return q.quotaUsed() }

// newPSASim builds the simulator for a PSA type: unlimited turns its vendor
// quotas off, scale > 1 runs its quota clock that many times faster.
func newPSASim(kind string, unlimited bool, scale float64) (PSASim, error) {
	var clock func() time.Time
	if scale > 1 {
		start := time.Now()
		clock = func() time.Time { return start.Add(time.Duration(float64(time.Since(start)) * scale)) }
	}
	switch kind {
	case config.PSAConnectWise:
		s := cwsim.New()
		return &psaSim{kitSim: s, name: kind, stats: s.Stats}, nil
	case config.PSAAutotask:
		var opts []atsim.Option
		if unlimited {
			opts = append(opts, atsim.WithHourlyLimit(0), atsim.WithThreadLimit(0))
		}
		if clock != nil {
			opts = append(opts, atsim.WithClock(clock), atsim.WithLatencyScale(1/scale))
		}
		s := atsim.New(opts...)
		stats := func() simkit.Stats { return s.Stats().Stats }
		return meteredSim{&psaSim{kitSim: s, name: kind, stats: stats}, func() int { return s.Stats().QuotaUsed }}, nil
	case config.PSAHaloPSA:
		var opts []halosim.Option
		if unlimited {
			opts = append(opts, halosim.WithRateLimit(0, 0))
		}
		if clock != nil {
			opts = append(opts, halosim.WithClock(clock))
		}
		s := halosim.New(opts...)
		return &psaSim{kitSim: s, name: kind, stats: s.Stats}, nil
	}
	return nil, fmt.Errorf("simenv: --psa %q is not connectwise, autotask or halopsa", kind)
}
