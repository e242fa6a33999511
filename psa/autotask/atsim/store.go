package atsim

import (
	"sort"
	"strings"
	"time"

	"github.com/psasync/psasync/simkit"
)

// SeedContact is a contact in the simulator's own terms, for seeding and for
// inspecting what a client wrote. Department, OfficeLocation and ContactType
// live in the UDFs WithUDFNames configures; ExternalID is Autotask's native
// externalID field; UDFs holds the other UDFs (defined with WithContactUDF).
// SiteID is not used.
type SeedContact = simkit.Contact

type company struct {
	id         int64
	name       string
	active     bool
	webAddress string
	udfs       map[string]string // canonical company UDF name -> value
}

type contact struct {
	id                            int64
	companyID                     int64
	firstName, lastName           string
	email, email2, email3         string
	phone, mobilePhone, altPhone  string
	title, externalID             string
	active                        bool
	udfs                          map[string]string // canonical UDF name -> value
	created, modified, activityAt time.Time
}

// AddCompany creates (or renames) an active company.
func (s *Sim) AddCompany(id int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.companies[int64(id)]; old != nil {
		c := *old
		c.name = name
		s.companies[c.id] = &c
		return
	}
	s.companies[int64(id)] = &company{id: int64(id), name: name, active: true, udfs: map[string]string{}}
}

// SeedContact stores c as if it had been created in Autotask and returns its
// id (c.ID when set, a new one otherwise). Unlike the API it does not check
// duplicates or that the company exists, so tests can set up any state.
func (s *Sim) SeedContact(c SeedContact) int {
	now := s.cfg.now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.claimIDLocked(int64(c.ID))
	ct := &contact{
		id: id, companyID: int64(c.CompanyID),
		firstName: c.FirstName, lastName: c.LastName,
		email: c.Email, email2: c.Email2, email3: c.Email3,
		phone: c.Phone, mobilePhone: c.MobilePhone, title: c.Title,
		externalID: c.ExternalID, active: !c.Inactive,
		udfs:    make(map[string]string),
		created: now, modified: now, activityAt: now,
	}
	for name, v := range c.UDFs {
		if canon, ok := s.udfName(name); ok {
			ct.udfs[canon] = v
		}
	}
	s.setUDF(ct, s.cfg.departmentUDF, c.Department)
	s.setUDF(ct, s.cfg.officeLocationUDF, c.OfficeLocation)
	s.setUDF(ct, s.cfg.contactTypeUDF, c.ContactType)
	s.contacts[id] = ct
	return int(id)
}

// Contacts returns a snapshot of a company's contacts, ordered by id.
func (s *Sim) Contacts(companyID int) []SeedContact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SeedContact
	for _, c := range s.contacts {
		if c.companyID == int64(companyID) {
			out = append(out, s.seedOf(c))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Contact returns one contact by id.
func (s *Sim) Contact(id int) (SeedContact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[int64(id)]
	if !ok {
		return SeedContact{}, false
	}
	return s.seedOf(c), true
}

func (s *Sim) newIDLocked() int64 {
	id := s.nextID
	s.nextID++
	return id
}

// claimIDLocked is the id a seeded record gets: id itself when set (new
// ids then start above it), a new one when id is 0 or less.
func (s *Sim) claimIDLocked(id int64) int64 {
	if id <= 0 {
		return s.newIDLocked()
	}
	s.nextID = max(s.nextID, id+1)
	return id
}

func (s *Sim) setUDF(c *contact, name, value string) {
	if name == "" || value == "" {
		return
	}
	c.udfs[name] = value
}

func (s *Sim) seedOf(c *contact) SeedContact {
	out := SeedContact{
		ID: int(c.id), CompanyID: int(c.companyID),
		FirstName: c.firstName, LastName: c.lastName,
		Email: c.email, Email2: c.email2, Email3: c.email3,
		Phone: c.phone, MobilePhone: c.mobilePhone, Title: c.title,
		ExternalID: c.externalID, Inactive: !c.active,
	}
	for name, v := range c.udfs {
		switch name {
		case s.cfg.departmentUDF:
			out.Department = v
		case s.cfg.officeLocationUDF:
			out.OfficeLocation = v
		case s.cfg.contactTypeUDF:
			out.ContactType = v
		default:
			if out.UDFs == nil {
				out.UDFs = make(map[string]string)
			}
			out.UDFs[name] = v
		}
	}
	return out
}

// udfDefs lists the contact UDFs defined in this database, in a stable order.
func (s *Sim) udfDefs() []string {
	var defs []string
	for _, n := range []string{s.cfg.departmentUDF, s.cfg.officeLocationUDF, s.cfg.contactTypeUDF} {
		if n != "" {
			defs = append(defs, n)
		}
	}
	defs = append(defs, s.cfg.extraUDFs...)
	return defs
}

// udfName resolves a UDF name case-insensitively to its defined spelling.
func (s *Sim) udfName(name string) (string, bool) {
	for _, d := range s.udfDefs() {
		if strings.EqualFold(d, strings.TrimSpace(name)) {
			return d, true
		}
	}
	return "", false
}

// timestamp formats a time as the REST API does (UTC, milliseconds, Z).
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// contactWire renders a contact as the REST API does: camelCase fields,
// isActive as an integer and every defined UDF, null when unset.
func (s *Sim) contactWire(c *contact) map[string]any {
	udfs := make([]map[string]any, 0, len(s.udfDefs()))
	for _, name := range s.udfDefs() {
		var v any
		if val, ok := c.udfs[name]; ok && val != "" {
			v = val
		}
		udfs = append(udfs, map[string]any{"name": name, "value": v})
	}
	active := 0
	if c.active {
		active = 1
	}
	return map[string]any{
		"id":                c.id,
		"companyID":         c.companyID,
		"firstName":         c.firstName,
		"lastName":          c.lastName,
		"emailAddress":      nullable(c.email),
		"emailAddress2":     nullable(c.email2),
		"emailAddress3":     nullable(c.email3),
		"phone":             nullable(c.phone),
		"mobilePhone":       nullable(c.mobilePhone),
		"alternatePhone":    nullable(c.altPhone),
		"title":             nullable(c.title),
		"externalID":        nullable(c.externalID),
		"isActive":          active,
		"createDate":        timestamp(c.created),
		"lastModifiedDate":  timestamp(c.modified),
		"lastActivityDate":  timestamp(c.activityAt),
		"userDefinedFields": udfs,
	}
}

func (s *Sim) companyWire(c *company) map[string]any {
	udfs := make([]map[string]any, 0, len(s.cfg.companyUDFs))
	for _, name := range s.cfg.companyUDFs {
		udfs = append(udfs, map[string]any{"name": name, "value": nullable(c.udfs[name])})
	}
	return map[string]any{
		"id":                c.id,
		"companyName":       c.name,
		"companyType":       1,
		"isActive":          c.active,
		"webAddress":        nullable(c.webAddress),
		"userDefinedFields": udfs,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
