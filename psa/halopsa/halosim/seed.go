package halosim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// company is a Halo client (customer).
type company struct {
	id       int
	name     string
	inactive bool
	mainSite int
	website  string
	// tenants are the client's Azure tenants (Halo's azure_tenants), by
	// tenant id in the order they were added.
	tenants []azureTenant
}

// azureTenant is one entry of a client's azure_tenants.
type azureTenant struct {
	id             int
	tenantID, name string
}

// site is a Halo site; every user belongs to one, and through it to a client.
type site struct {
	id       int
	clientID int
	name     string
}

// user is a Halo user (an end-user contact of a client).
type user struct {
	id         int
	siteID     int
	clientID   int
	name       string
	firstName  string
	surname    string
	email      string
	phone      string
	mobile     string
	title      string
	department string
	azureOID   string
	inactive   bool
	custom     map[string]string // custom field name -> value
}

// customFieldDef is a user custom field the instance defines.
type customFieldDef struct {
	id    int
	name  string
	label string
}

// userCustomFields lists the custom fields every simulated instance has.
func userCustomFields() []customFieldDef {
	return []customFieldDef{
		{id: 101, name: CustomFieldOfficeLocation, label: "Office Location"},
		{id: 102, name: CustomFieldContactType, label: "Contact Type"},
	}
}

// SeedContact is a Halo user in the sim's own terms, for seeding and for
// asserting on what a client wrote: SiteID is the user's site (0 when
// seeding means the company's main site), OfficeLocation and ContactType
// are the custom fields CustomFieldOfficeLocation and CustomFieldContactType,
// ExternalID is azureoid. SeedContact ignores ID: Halo assigns it.
type SeedContact = simkit.Contact

// AddCompany adds (or renames) a Halo client with a "Main" site.
func (s *Sim) AddCompany(id int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCompanyLocked(id, name)
}

func (s *Sim) addCompanyLocked(id int, name string) *company {
	if c, ok := s.companies[id]; ok {
		c.name = name
		return c
	}
	c := &company{id: id, name: name}
	st := &site{id: s.nextSiteID, clientID: id, name: "Main"}
	s.nextSiteID++
	s.sites[st.id] = st
	c.mainSite = st.id
	s.companies[id] = c
	return c
}

// AddSite adds a site to an existing company; it panics when the company or
// the site id is unknown or taken, which is a mistake in the test.
func (s *Sim) AddSite(id, companyID int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.companies[companyID]; !ok {
		panic(fmt.Sprintf("halosim: AddSite: company %d does not exist", companyID))
	}
	if _, ok := s.sites[id]; ok {
		panic(fmt.Sprintf("halosim: AddSite: site %d exists", id))
	}
	s.sites[id] = &site{id: id, clientID: companyID, name: name}
	if id >= s.nextSiteID {
		s.nextSiteID = id + 1
	}
}

// MainSite returns the id of a company's main site.
func (s *Sim) MainSite(companyID int) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[companyID]
	if !ok {
		return 0, false
	}
	return c.mainSite, true
}

// SetCompanyInactive marks a Halo client inactive or active again.
func (s *Sim) SetCompanyInactive(id int, inactive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.companies[id]; ok {
		c.inactive = inactive
	}
}

// SeedContact stores c as a new user and returns its id; c.ID is ignored.
// A company that does not exist yet is created with a generated name. It
// bypasses the duplicate-email rule so tests can seed existing duplicates.
func (s *Sim) SeedContact(c SeedContact) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	comp, ok := s.companies[c.CompanyID]
	if !ok {
		comp = s.addCompanyLocked(c.CompanyID, fmt.Sprintf("Company %d", c.CompanyID))
	}
	siteID := c.SiteID
	if st, ok := s.sites[siteID]; !ok || st.clientID != comp.id {
		siteID = comp.mainSite
	}
	u := &user{
		id:         s.nextUserID,
		siteID:     siteID,
		clientID:   comp.id,
		name:       strings.TrimSpace(c.FirstName + " " + c.LastName),
		firstName:  c.FirstName,
		surname:    c.LastName,
		email:      c.Email,
		phone:      c.Phone,
		mobile:     c.MobilePhone,
		title:      c.Title,
		department: c.Department,
		azureOID:   c.ExternalID,
		inactive:   c.Inactive,
		custom:     map[string]string{},
	}
	if c.OfficeLocation != "" {
		u.custom[CustomFieldOfficeLocation] = c.OfficeLocation
	}
	if c.ContactType != "" {
		u.custom[CustomFieldContactType] = c.ContactType
	}
	s.users[u.id] = u
	s.nextUserID++
	return u.id
}

// Contacts returns a snapshot of a company's users, by id.
func (s *Sim) Contacts(companyID int) []SeedContact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SeedContact
	for _, u := range s.users {
		if u.clientID == companyID {
			out = append(out, u.seed())
		}
	}
	slices.SortFunc(out, func(a, b SeedContact) int { return a.ID - b.ID })
	return out
}

// Contact returns one user by id.
func (s *Sim) Contact(id int) (SeedContact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return SeedContact{}, false
	}
	return u.seed(), true
}

func (u *user) seed() SeedContact {
	return SeedContact{
		ID:             u.id,
		CompanyID:      u.clientID,
		SiteID:         u.siteID,
		FirstName:      u.firstName,
		LastName:       u.surname,
		Email:          u.email,
		Phone:          u.phone,
		MobilePhone:    u.mobile,
		Title:          u.title,
		Department:     u.department,
		OfficeLocation: u.custom[CustomFieldOfficeLocation],
		ContactType:    u.custom[CustomFieldContactType],
		ExternalID:     u.azureOID,
		Inactive:       u.inactive,
	}
}
