package simenv

import (
	"fmt"
	"strings"

	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/simkit"
)

// PartnerTenantID is the simulated MSP's own (partner) tenant, whose
// customers Options.Customers generates.
const PartnerTenantID = "9a7e0000-0000-4000-8000-00000000aa01"

// PartnerRedirectURI is the admin-consent redirect of the simulated world.
const PartnerRedirectURI = "https://psasync.example.com/onboarding/consented"

// CustomerKind is how a generated customer relates to the PSA's companies:
// the case it exercises in onboarding's matching.
type CustomerKind string

// The kinds, in the order they cycle through the generated customers.
const (
	// KindTenantID: the company's tenant-id field holds the tenant id.
	KindTenantID CustomerKind = "tenant_id"
	// KindWebsite: the company's website is the tenant's default domain.
	KindWebsite CustomerKind = "domain"
	// KindContacts: only the company's contacts' email domains match.
	KindContacts CustomerKind = "contact_domain"
	// KindName: the company's name differs only by case and legal suffix.
	KindName CustomerKind = "name"
	// KindTwoCompanies: two companies have the tenant's domain as website
	// (needs review, two candidates).
	KindTwoCompanies CustomerKind = "two_companies"
	// KindNoConsent: no administrator consented yet; the company matches
	// by name (the only fact known without consent).
	KindNoConsent CustomerKind = "no_consent"
	// KindNoMatch: no company matches at all (needs review, no candidates).
	KindNoMatch CustomerKind = "no_match"
)

// customerCycle is the fixed mix: of every ten customers, two per rule 1
// and 2, one per rule 3, two per rule 4, one with two companies, one
// without consent and one without any match.
var customerCycle = []CustomerKind{
	KindTenantID, KindWebsite, KindContacts, KindName, KindTwoCompanies,
	KindNoConsent, KindNoMatch, KindWebsite, KindTenantID, KindName,
}

// GeneratedCustomer is one customer of the simulated MSP and what the
// generator made of it, so tests can assert the matching's outcome.
type GeneratedCustomer struct {
	TenantID string
	Name     string
	Domain   string
	Kind     CustomerKind
	// CompanyIDs are the PSA companies made for it (two for
	// KindTwoCompanies, none for KindNoMatch).
	CompanyIDs []int
}

// Mix counts the generated customers the way discovery reports them.
type Mix struct {
	// ByRule counts the customers each rule should propose a company for
	// (keys are onboarding's rule names).
	ByRule map[string]int
	// NeedsReview counts the customers with two companies or none.
	NeedsReview int
	// NoConsent counts the customers without consent.
	NoConsent int
}

// CustomerTenantID is the id of the i-th generated customer.
func CustomerTenantID(i int) string {
	return fmt.Sprintf("c1570000-0000-4000-8000-%012d", i+1)
}

// customerBases are the generated customers' names, numbered past 20.
var customerBases = []string{
	"Northwind Traders", "Fabrikam", "Adventure Works", "Tailspin Toys", "Wide World Importers",
	"Litware", "Proseware", "Lucerne Publishing", "Margie's Travel", "Alpine Ski House",
	"Coho Winery", "Fourth Coffee", "Graphic Design Institute", "Humongous Insurance", "Blue Yonder Airlines",
	"Trey Research", "Woodgrove Bank", "Wingtip Toys", "Southridge Video", "City Power & Light",
}

// customerName is the i-th customer's organization name.
func customerName(i int) string {
	return fmt.Sprintf("%s %d", customerBases[i%len(customerBases)], i/len(customerBases)+1)
}

// addCustomers adds the partner tenant and n customers to the Graph
// simulator, and the matching companies to the PSA simulator, users
// users each.
func (e *Env) addCustomers(n, users int) error {
	seeder := e.PSA
	if err := e.Graph.AddTenant(graphsim.TenantSpec{ID: PartnerTenantID}); err != nil {
		return err
	}
	e.Mix = Mix{ByRule: map[string]int{}}
	for i := range n {
		kind := customerCycle[i%len(customerCycle)]
		name := customerName(i)
		slug := strings.Trim(strings.NewReplacer(" ", "-", "'", "", "&", "and").Replace(strings.ToLower(name)), "-")
		slug = strings.ReplaceAll(slug, "--", "-")
		domain := slug + ".com"
		c := graphsim.Customer{
			TenantID: CustomerTenantID(i), DisplayName: name, Partner: PartnerTenantID,
			Domains:   []graphsim.Domain{{Name: domain, Default: true}, {Name: strings.ReplaceAll(slug, "-", "") + ".onmicrosoft.com", Initial: true}},
			Consented: kind != KindNoConsent, Users: users,
		}
		if i%3 == 1 {
			c.Relationship = graphsim.RelationshipBoth
		}
		if err := e.Graph.AddCustomer(c); err != nil {
			return fmt.Errorf("simenv: customer %d: %w", i, err)
		}
		if cw, ok := vendorSim(e.PSA).(*cwsim.Sim); ok {
			// ConnectWise departments are a setup table (see Start).
			for _, u := range e.Graph.Users(c.TenantID) {
				if u.Department != "" {
					cw.AddDepartment(u.Department)
				}
			}
		}
		g := GeneratedCustomer{TenantID: c.TenantID, Name: name, Domain: domain, Kind: kind}
		contact := func(local string) simkit.Contact {
			return simkit.Contact{FirstName: "Pat", LastName: local, Email: local + "@" + domain}
		}
		seed := func(co simkit.Company) { g.CompanyIDs = append(g.CompanyIDs, seeder.SeedCompany(co)) }
		switch kind {
		case KindTenantID:
			seed(simkit.Company{Name: name + " (billing)", TenantID: c.TenantID})
			e.Mix.ByRule[string(kind)]++
		case KindWebsite:
			seed(simkit.Company{Name: name + " Group", Website: "https://www." + domain + "/"})
			e.Mix.ByRule[string(kind)]++
		case KindContacts:
			seed(simkit.Company{Name: name + " Holdings", Contacts: []simkit.Contact{contact("lee"), contact("kim")}})
			e.Mix.ByRule[string(kind)]++
		case KindName:
			seed(simkit.Company{Name: strings.ToUpper(name) + suffixFor(i)})
			e.Mix.ByRule[string(kind)]++
		case KindNoConsent:
			seed(simkit.Company{Name: name + ", Inc."})
			e.Mix.ByRule[string(KindName)]++
			e.Mix.NoConsent++
		case KindTwoCompanies:
			seed(simkit.Company{Name: name + " East", Website: domain})
			seed(simkit.Company{Name: name + " West", Website: "http://" + domain})
			e.Mix.NeedsReview++
		case KindNoMatch:
			e.Mix.NeedsReview++
		}
		e.Customers = append(e.Customers, g)
	}
	// A company no customer matches, and an inactive one that would.
	seeder.SeedCompany(simkit.Company{Name: "Internal IT", Website: "msp.example"})
	if n > 0 {
		seeder.SeedCompany(simkit.Company{Name: customerName(0), Website: e.Customers[0].Domain, Inactive: true})
	}
	return nil
}

// suffixFor varies the legal suffix of KindName companies.
func suffixFor(i int) string {
	return []string{" LTD", " Limited", ", LLC", " GmbH", " Pty Ltd", " B.V."}[i%6]
}
