package cwsim

import (
	"fmt"
	"time"

	"github.com/psasync/psasync/simkit"
)

// SeedContact is a contact as tests and psasim describe it, in canonical
// terms. The simulator stores it the way Manage would: Email as the default
// "Email" communication item, Phone as the default "Direct" one,
// MobilePhone as a "Mobile" one, Department and ContactType as references
// to setup tables (created when missing), ExternalID and OfficeLocation in
// contact custom fields (ExternalIDFieldID and OfficeLocationFieldID unless
// options change them). SiteID is not used: Manage contacts have no site.
type SeedContact = simkit.Contact

// AddCompany creates (or renames) a company.
func (s *Sim) AddCompany(id int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data.addCompany(id, name)
}

// AddContactType creates a contact type and returns its id; an existing
// type of that name (ignoring case) is returned instead.
func (s *Sim) AddContactType(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.addType(name)
}

// AddDepartment creates a contact department and returns its id; an
// existing department of that name (ignoring case) is returned instead.
func (s *Sim) AddDepartment(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.addDepartment(name)
}

// SeedContact stores c and returns its id. Seeding bypasses the API's
// checks on purpose, so tests can set up duplicates and stale data the API
// would refuse; an unknown company is created as "Company N".
func (s *Sim) SeedContact(c SeedContact) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.data
	if _, ok := st.companies[c.CompanyID]; !ok {
		st.addCompany(c.CompanyID, fmt.Sprintf("Company %d", c.CompanyID))
	}
	id := c.ID
	if id <= 0 || st.contacts[id] != nil {
		id = st.nextContact
	}
	if id >= st.nextContact {
		st.nextContact = id + 1
	}
	rec := &contact{
		id:        id,
		companyID: c.CompanyID,
		firstName: c.FirstName,
		lastName:  c.LastName,
		title:     c.Title,
		inactive:  c.Inactive,
		custom:    map[int]any{},
		updated:   time.Now().UTC(),
		updatedBy: "seed",
		enteredBy: "seed",
	}
	if c.Department != "" {
		rec.departmentID = st.addDepartment(c.Department)
	}
	if c.ContactType != "" {
		rec.typeIDs = []int{st.addType(c.ContactType)}
	}
	for _, it := range []struct {
		typeID int
		value  string
		def    bool
	}{{commEmail, c.Email, true}, {commDirect, c.Phone, true}, {commMobile, c.MobilePhone, false}} {
		if it.value != "" {
			rec.items = append(rec.items, commItem{id: st.newItemID(), typeID: it.typeID, value: it.value, defaultFlag: it.def})
		}
	}
	if c.ExternalID != "" {
		rec.custom[s.cfg.externalIDField] = c.ExternalID
	}
	if c.OfficeLocation != "" {
		rec.custom[s.cfg.officeField] = c.OfficeLocation
	}
	st.put(rec, nil)
	return id
}

// Contacts returns a snapshot of a company's contacts in id order.
func (s *Sim) Contacts(companyID int) []SeedContact {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.data.contactsOf(companyID)
	out := make([]SeedContact, 0, len(list))
	for _, c := range list {
		out = append(out, s.seedOf(c))
	}
	return out
}

// Contact returns one contact by id, and whether it exists.
func (s *Sim) Contact(id int) (SeedContact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.data.contacts[id]
	if !ok {
		return SeedContact{}, false
	}
	return s.seedOf(c), true
}

// seedOf renders a stored contact in SeedContact terms. Caller holds mu.
func (s *Sim) seedOf(c *contact) SeedContact {
	st := s.data
	out := SeedContact{ID: c.id, CompanyID: c.companyID, FirstName: c.firstName, LastName: c.lastName, Title: c.title, Inactive: c.inactive}
	// Communication items and custom fields hold the rest.
	out.Email = st.firstItem(c, func(t *commType) bool { return t.email })
	out.Phone = st.firstItem(c, func(t *commType) bool { return t.id == commDirect })
	out.MobilePhone = st.firstItem(c, func(t *commType) bool { return t.id == commMobile })
	out.ExternalID = customString(c.custom[s.cfg.externalIDField])
	out.OfficeLocation = customString(c.custom[s.cfg.officeField])
	if d := st.departments[c.departmentID]; d != nil {
		out.Department = d.name
	}
	if len(c.typeIDs) > 0 {
		if t := st.types[c.typeIDs[0]]; t != nil {
			out.ContactType = t.description
		}
	}
	return out
}
