// Package simenv starts the Graph simulator and one PSA simulator, seeded,
// and builds the psasync configuration that points at them. psasync's
// --demo mode, cmd/psasim, the end-to-end tests and the benchmarks share it.
package simenv

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
	"github.com/psasync/psasync/simkit"
)

// DefaultTenantID is the simulated tenant's id.
const DefaultTenantID = "5f1c1d2e-0000-4000-8000-00000000d3e0"

// MaxTenants is how many tenants one simulated world holds.
const MaxTenants = 10000

// DefaultCompanyID is the PSA company the simulated tenant syncs into.
const DefaultCompanyID = 250

// Options choose what to simulate.
type Options struct {
	// PSA is connectwise (default), autotask or halopsa.
	PSA string
	// Users is the size of the generated tenant (default 150).
	Users int
	// Seed makes the generated tenant reproducible (default 1).
	Seed int64
	// GraphAddr and PSAAddr are host:port to listen on (default
	// 127.0.0.1:0, a free port).
	GraphAddr, PSAAddr string
	// Tenants is how many tenants to generate (default 1); tenant i > 0
	// gets id DefaultTenantID with its last digit (past 9: last five digits)
	// changed and company 250+i; at most MaxTenants.
	Tenants int
	// SeedPSA seeds each company with contacts that match, are stale, are
	// duplicated and are orphaned, so a first run shows every outcome.
	SeedPSA bool
	// GraphOptions and PSAOptions pass through to the simulators.
	GraphOptions []graphsim.Option
	// Unlimited turns off the PSA simulator's vendor quotas (benchmarks).
	Unlimited bool
	// Customers > 0 makes a simulated MSP: a partner tenant
	// (PartnerTenantID) with that many customers in the Graph simulator,
	// matching companies in the PSA simulator in a known mix (see
	// CustomerKind and Env.Mix), and a partner section in the config.
	Customers int
	// CustomerUsers is how many users each customer has (default 0).
	CustomerUsers int
	// TimeScale > 1 runs the PSA simulator's quota clock that many times
	// faster (Autotask's rolling hour, Halo's 5 minutes), so quota
	// behaviour over an hour can be measured in seconds.
	TimeScale float64
}

// Env is a running simulated world.
type Env struct {
	Config  *config.Config
	Graph   *graphsim.Sim
	PSA     PSASim
	Tenants []string
	// Customers are the simulated MSP's customers (Options.Customers), and
	// Mix what onboarding should make of them.
	Customers []GeneratedCustomer
	Mix       Mix
	// HTTPClient trusts the Graph simulator's certificate.
	HTTPClient *http.Client
	psaSrv     *simkit.Server
	// vendorQuota is true when the PSA simulator enforces its vendor's
	// request limits (Autotask and Halo unless Options.Unlimited).
	vendorQuota bool
}

// Close stops the simulators.
func (e *Env) Close() {
	if e == nil {
		return
	}
	if e.psaSrv != nil {
		e.psaSrv.Close()
	}
	if e.Graph != nil {
		e.Graph.Close()
	}
}

// StopPSA takes the PSA simulator off the network (Graph keeps running), to
// show what psasync does when the PSA is unreachable.
func (e *Env) StopPSA() {
	if e.psaSrv != nil {
		e.psaSrv.Close()
	}
}

// TenantID returns the id of the i-th simulated tenant.
func TenantID(i int) string {
	switch {
	case i == 0:
		return DefaultTenantID
	case i < 10:
		return DefaultTenantID[:len(DefaultTenantID)-1] + strconv.Itoa(i)
	}
	// Past ten (the many-tenant benchmarks), the last five hex digits
	// count.
	return DefaultTenantID[:len(DefaultTenantID)-5] + fmt.Sprintf("%05d", i)
}

// Start starts the simulators and returns the world and its config.
func Start(ctx context.Context, o Options) (*Env, error) {
	if o.PSA == "" {
		o.PSA = config.PSAConnectWise
	}
	if o.Users <= 0 {
		o.Users = 150
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Tenants <= 0 {
		o.Tenants = 1
	}
	if o.Tenants > MaxTenants {
		return nil, fmt.Errorf("simenv: at most %d tenants", MaxTenants)
	}
	if o.GraphAddr == "" {
		o.GraphAddr = "127.0.0.1:0"
	}
	if o.PSAAddr == "" {
		o.PSAAddr = "127.0.0.1:0"
	}
	env := &Env{}
	gopts := append([]graphsim.Option{}, o.GraphOptions...)
	for i := 0; i < o.Tenants; i++ {
		id := TenantID(i)
		env.Tenants = append(env.Tenants, id)
		gopts = append(gopts, graphsim.WithGeneratedTenant(id, o.Users, o.Seed+int64(i)))
	}
	env.Graph = graphsim.New(gopts...)
	if err := env.Graph.Start(o.GraphAddr); err != nil {
		return nil, err
	}
	env.HTTPClient = env.Graph.HTTPClient()

	var err error
	env.PSA, err = newPSASim(o.PSA, o.Unlimited, o.TimeScale)
	if err != nil {
		env.Close()
		return nil, err
	}
	env.psaSrv, err = simkit.Start(o.PSAAddr, env.PSA)
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("simenv: %s simulator: %w", o.PSA, err)
	}
	env.PSA.SetURL(env.psaSrv.URL)

	for i, id := range env.Tenants {
		company := DefaultCompanyID + i
		verified, _ := graphsim.Domains(id)
		env.PSA.AddCompany(company, "Contoso "+verified)
		if cw, ok := vendorSim(env.PSA).(*cwsim.Sim); ok {
			// ConnectWise departments are a setup table: an MSP creates
			// them before contacts can reference them.
			for _, u := range env.Graph.Users(id) {
				if u.Department != "" {
					cw.AddDepartment(u.Department)
				}
			}
		}
		if o.SeedPSA {
			seedPSA(env.PSA, company, env.Graph.Users(id))
		}
	}
	if o.Customers > 0 {
		if err := env.addCustomers(o.Customers, o.CustomerUsers); err != nil {
			env.Close()
			return nil, err
		}
	}
	env.vendorQuota = o.PSA != config.PSAConnectWise && !o.Unlimited
	env.Config = env.buildConfig(o)
	if err := env.Config.Validate(); err != nil {
		env.Close()
		return nil, fmt.Errorf("simenv: generated config: %w", err)
	}
	return env, nil
}

// buildConfig writes the psasync config that points at the simulators.
func (e *Env) buildConfig(o Options) *config.Config {
	authority, base, clientID, secret := e.Graph.GraphConfig(e.Tenants[0])
	c := &config.Config{
		Log:     config.Log{Level: "info", Format: "text"},
		Graph:   config.GraphApp{ClientID: clientID, ClientSecret: secret, AuthorityHost: authority, BaseURL: base},
		PSA:     config.PSA{Type: o.PSA},
		Mapping: mapping.DefaultConfig(),
	}
	c.Mapping.Exclusions.UPNPatterns = []string{"svc-*", "admin*"}
	psaURL := e.PSA.BaseURL()
	switch o.PSA {
	case config.PSAConnectWise:
		c.PSA.ConnectWise.Config = connectwise.Config{SiteURL: psaURL, CompanyID: cwsim.DefaultCompanyID, PublicKey: cwsim.DefaultPublicKey,
			PrivateKey: cwsim.DefaultPrivateKey, ClientID: cwsim.DefaultClientID, ObjectIDFieldID: cwsim.ExternalIDFieldID,
			OfficeLocationFieldID: cwsim.OfficeLocationFieldID, TenantIDFieldID: cwsim.TenantIDFieldID}
	case config.PSAAutotask:
		c.PSA.Autotask.Config = autotask.Config{ZoneURL: vendorSim(e.PSA).(*atsim.Sim).ZoneURL(), Username: atsim.DefaultUsername, Secret: atsim.DefaultSecret,
			IntegrationCode: atsim.DefaultIntegrationCode, DepartmentUDF: atsim.DefaultDepartmentUDF,
			OfficeLocationUDF: atsim.DefaultOfficeLocationUDF, ContactTypeUDF: atsim.DefaultContactTypeUDF, TenantIDUDF: atsim.DefaultTenantIDUDF}
	case config.PSAHaloPSA:
		c.PSA.HaloPSA.Config = halopsa.Config{InstanceURL: psaURL, ClientID: halosim.DefaultClientID, ClientSecret: halosim.DefaultClientSecret,
			OfficeLocationField: halosim.CustomFieldOfficeLocation, ContactTypeField: halosim.CustomFieldContactType}
	}
	if o.Customers > 0 {
		c.Partner = config.Partner{TenantID: PartnerTenantID, RedirectURI: PartnerRedirectURI, PSAContactType: "End User"}
	}
	for i, id := range e.Tenants {
		verified, _ := graphsim.Domains(id)
		c.Tenants = append(c.Tenants, config.Tenant{
			ID: id, Name: fmt.Sprintf("Simulated tenant %d", i+1),
			PSADefaultCompanyID: strconv.Itoa(DefaultCompanyID + i), PSAContactType: "End User",
			VerifiedDomains: []string{verified},
		})
	}
	return c
}
