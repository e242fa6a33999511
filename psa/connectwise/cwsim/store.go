package cwsim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/psasync/psasync/simkit"
)

// Communication type ids of the standard types every simulated site has.
const (
	commEmail  = 1
	commDirect = 2
	commMobile = 3
	commFax    = 4
	commHome   = 5
)

// Category names Manage reports in a communication item's
// communicationType.
const (
	categoryEmail = "Email"
	categoryPhone = "Phone"
	categoryFax   = "Fax"
)

type company struct {
	id               int
	identifier, name string
	website          string
	inactive         bool
	custom           map[int]any
}

type contactType struct {
	id          int
	description string
}

type department struct {
	id   int
	name string
}

type commType struct {
	id                 int
	description        string
	phone, fax, email  bool
	defaultForCategory bool
}

// category is the communicationType Manage derives from a type's flags.
func (t *commType) category() string {
	switch {
	case t.email:
		return categoryEmail
	case t.fax:
		return categoryFax
	default:
		return categoryPhone
	}
}

type customField struct {
	id                         int
	caption, kind, entry, cwID string
}

type commItem struct {
	id, typeID       int
	value, extension string
	defaultFlag      bool
}

// contact is the simulator's record of one Manage contact.
type contact struct {
	id, companyID        int
	firstName, lastName  string
	title                string
	inactive             bool
	departmentID         int
	typeIDs              []int
	items                []commItem
	custom               map[int]any
	updated              time.Time
	updatedBy, enteredBy string
}

// clone copies c deeply so a patch can be tried without touching c.
func (c *contact) clone() *contact {
	d := *c
	d.typeIDs = slices.Clone(c.typeIDs)
	d.items = slices.Clone(c.items)
	d.custom = make(map[int]any, len(c.custom))
	for k, v := range c.custom {
		d.custom[k] = v
	}
	return &d
}

// store is the simulated site's data. Sim.mu guards it.
type store struct {
	companies   map[int]*company
	contacts    map[int]*contact
	types       map[int]*contactType
	departments map[int]*department
	commTypes   map[int]*commType
	fields      map[int]*customField
	// companyFields are the company custom field definitions.
	companyFields map[int]*customField

	// emails counts, per company, the contacts holding each lower-cased
	// email address, so the duplicate check does not scan the company.
	emails map[int]map[string]int

	nextContact, nextType, nextDept, nextItem int
	// companyIDs numbers companies seeded without an id.
	companyIDs simkit.FreeIDs
}

func newStore(cfg config) *store {
	st := &store{
		companies:   map[int]*company{},
		contacts:    map[int]*contact{},
		types:       map[int]*contactType{},
		departments: map[int]*department{},
		commTypes:   map[int]*commType{},
		fields:      map[int]*customField{},
		companyFields: map[int]*customField{
			cfg.tenantField: {id: cfg.tenantField, caption: "M365 Tenant ID", kind: "Text", entry: "EntryField", cwID: fieldGUID(cfg.tenantField)},
		},
		emails:      map[int]map[string]int{},
		nextContact: 1,
		nextType:    1,
		nextDept:    1,
		nextItem:    1,
	}
	for _, t := range []*commType{
		{id: commEmail, description: "Email", email: true, defaultForCategory: true},
		{id: commDirect, description: "Direct", phone: true, defaultForCategory: true},
		{id: commMobile, description: "Mobile", phone: true},
		{id: commFax, description: "Fax", fax: true, defaultForCategory: true},
		{id: commHome, description: "Home", phone: true},
	} {
		st.commTypes[t.id] = t
	}
	for _, name := range []string{"Approver", "Decision Maker", "End User"} {
		st.addType(name)
	}
	st.fields[cfg.externalIDField] = &customField{id: cfg.externalIDField, caption: "M365 Object ID", kind: "Text", entry: "EntryField", cwID: fieldGUID(cfg.externalIDField)}
	if cfg.officeField != cfg.externalIDField {
		st.fields[cfg.officeField] = &customField{id: cfg.officeField, caption: "Office Location", kind: "Text", entry: "EntryField", cwID: fieldGUID(cfg.officeField)}
	}
	return st
}

// fieldGUID makes a stable connectWiseId for a custom field.
func fieldGUID(id int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", id)
}

func (st *store) addType(name string) int {
	return addSetup(st.types, &st.nextType, name, func(t *contactType) string { return t.description },
		func(id int) *contactType { return &contactType{id: id, description: name} })
}

func (st *store) addDepartment(name string) int {
	return addSetup(st.departments, &st.nextDept, name, func(d *department) string { return d.name },
		func(id int) *department { return &department{id: id, name: name} })
}

// addSetup returns the id of the setup-table entry called name (ignoring
// case), adding one with the next free id when there is none.
func addSetup[T any](table map[int]*T, next *int, name string, nameOf func(*T) string, build func(id int) *T) int {
	for id, t := range table {
		if strings.EqualFold(nameOf(t), name) {
			return id
		}
	}
	id := *next
	*next++
	table[id] = build(id)
	return id
}

// addCompany creates a company or renames an existing one (keeping its
// other fields).
func (st *store) addCompany(id int, name string) *company {
	if co := st.companies[id]; co != nil {
		co.name, co.identifier = name, identifierFor(name, id)
		return co
	}
	co := &company{id: id, identifier: identifierFor(name, id), name: name, custom: map[int]any{}}
	st.companies[id] = co
	return co
}

// identifierFor derives a company identifier (no spaces, at most 30
// characters) from its name, as Manage users usually do.
func identifierFor(name string, id int) string {
	var b strings.Builder
	for _, r := range name {
		if r != ' ' && b.Len() < 30 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf("Company%d", id)
	}
	return b.String()
}

// newItemID hands out communication item ids, unique across the site.
func (st *store) newItemID() int {
	id := st.nextItem
	st.nextItem++
	return id
}

// emailsOf lists the lower-cased email addresses on c.
func (st *store) emailsOf(c *contact) []string {
	var out []string
	for _, it := range c.items {
		if t := st.commTypes[it.typeID]; t != nil && t.email && it.value != "" {
			out = append(out, strings.ToLower(it.value))
		}
	}
	return out
}

// index adds (delta=+1) or removes (delta=-1) c's emails in the duplicate
// index.
func (st *store) index(c *contact, delta int) {
	m := st.emails[c.companyID]
	if m == nil {
		m = map[string]int{}
		st.emails[c.companyID] = m
	}
	for _, e := range st.emailsOf(c) {
		m[e] += delta
		if m[e] <= 0 {
			delete(m, e)
		}
	}
}

// duplicateEmail returns an email of c that another contact of c's company
// already holds, or "".
func (st *store) duplicateEmail(c *contact, old *contact) string {
	own := map[string]bool{}
	if old != nil && old.companyID == c.companyID {
		for _, e := range st.emailsOf(old) {
			own[e] = true
		}
	}
	m := st.emails[c.companyID]
	for _, e := range st.emailsOf(c) {
		// Only an address the write gives the contact is checked: a contact
		// that shares its unchanged address with another (made with
		// ignoreDuplicates, or by an import) can still be edited.
		if !own[e] && m[e] > 0 {
			return e
		}
	}
	return ""
}

// put stores c (new or replacing old), keeping the email index right.
func (st *store) put(c *contact, old *contact) {
	if old != nil {
		st.index(old, -1)
	}
	st.contacts[c.id] = c
	st.index(c, +1)
}

// contactsOf returns a company's contacts ordered by id; companyID 0 means
// every company.
func (st *store) contactsOf(companyID int) []*contact {
	out := make([]*contact, 0, len(st.contacts))
	for _, c := range st.contacts {
		if companyID == 0 || c.companyID == companyID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// firstItem returns the value of the first item of type typeID, preferring
// the default one.
func (st *store) firstItem(c *contact, match func(*commType) bool) string {
	var first string
	found := false
	for _, it := range c.items {
		t := st.commTypes[it.typeID]
		if t == nil || !match(t) {
			continue
		}
		if it.defaultFlag {
			return it.value
		}
		if !found {
			first, found = it.value, true
		}
	}
	return first
}

// customString renders a custom field value as text.
func customString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
