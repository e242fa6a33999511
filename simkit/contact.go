package simkit

// Contact is a PSA contact in neutral, canonical terms, as tests, demos and
// simenv seed it into any PSA simulator and read it back. Each simulator
// stores it the way its vendor would (communication items, user-defined or
// custom fields, sites) and defines its wire JSON itself.
type Contact struct {
	// ID is the contact id; 0 when seeding picks the next free one.
	ID int
	// CompanyID is the PSA company (Halo: client) the contact belongs to.
	CompanyID int
	// SiteID is the contact's site within its company, for PSAs that have
	// sites (HaloPSA); 0 when seeding means the company's main site.
	SiteID    int
	FirstName string
	LastName  string
	Email     string
	// Email2 and Email3 are further addresses, for PSAs that keep more than
	// one per contact (Autotask); other simulators ignore them.
	Email2      string
	Email3      string
	Phone       string
	MobilePhone string
	Title       string
	// Department is a department name; simulators whose vendor keeps
	// departments in a table create it when missing.
	Department string
	// OfficeLocation is stored in the simulator's office-location field.
	OfficeLocation string
	// ContactType is a contact type name.
	ContactType string
	// ExternalID is the M365 object id psasync links the contact by.
	ExternalID string
	// UDFs holds other user-defined field values by name, for PSAs whose
	// contacts have such fields defined per site (Autotask); other
	// simulators ignore them.
	UDFs     map[string]string
	Inactive bool
}

// Company is a PSA company in neutral terms, as onboarding tests, demos and
// simenv seed it into any PSA simulator and read it back. Each simulator
// stores it the way its vendor would: the website in the company's web
// address field, TenantID in the vendor's tenant-id field (a ConnectWise
// company custom field, an Autotask company UDF, Halo's client Azure tenant
// field), Inactive as the vendor's inactive or deleted flag.
type Company struct {
	// ID is the company id; 0 when seeding picks the next free one.
	ID      int
	Name    string
	Website string
	// TenantID is the Microsoft 365 tenant id stored on the company, ""
	// for none.
	TenantID string
	Inactive bool
	// Contacts are seeded into the company with it; their CompanyID is
	// set to the company's id. Reading a company back leaves them out.
	Contacts []Contact
}

// Seed is every PSA simulator's SeedCompany: store keeps the company
// (without its contacts) the vendor's way and returns its id, then each
// contact goes to seedContact (the simulator's SeedContact) with its
// CompanyID set to that id. It returns the company's id.
func (c Company) Seed(store func(Company) int, seedContact func(Contact) int) int {
	id := store(c)
	for _, ct := range c.Contacts {
		ct.CompanyID = id
		seedContact(ct)
	}
	return id
}
