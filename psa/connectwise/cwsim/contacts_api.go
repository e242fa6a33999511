package cwsim

// Contact endpoints: list with conditions, childConditions and
// customFieldConditions, get,
// create, replace (PUT) and JSON Patch, and the rules Manage applies to a
// contact before it stores one.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// contactConditions are the contact fields conditions may name.
var contactConditions = schema{
	"id": kindInt, "firstname": kindString, "lastname": kindString, "title": kindString,
	"inactiveflag": kindBool, "company/id": kindInt, "company/name": kindString,
	"company/identifier": kindString, "department/id": kindInt, "department/name": kindString,
}

// contactChildConditions are the child-collection fields childConditions
// may name.
var contactChildConditions = schema{
	"communicationitems/value": kindString, "communicationitems/communicationtype": kindString,
	"communicationitems/type/id": kindInt, "communicationitems/type/name": kindString,
	"communicationitems/defaultflag": kindBool,
	"types/id":                       kindInt, "types/name": kindString,
}

// contactField reads one condition field of a contact. Caller holds mu.
func (s *Sim) contactField(c *contact, f string) literal {
	st := s.data
	str := func(v string) literal { return literal{k: kindString, s: v} }
	switch f {
	case "id":
		return literal{k: kindInt, i: c.id}
	case "firstname":
		return str(c.firstName)
	case "lastname":
		return str(c.lastName)
	case "title":
		return str(c.title)
	case "inactiveflag":
		return literal{k: kindBool, b: c.inactive}
	case "company/id":
		return literal{k: kindInt, i: c.companyID}
	case "company/name", "company/identifier":
		co := st.companies[c.companyID]
		if co == nil {
			return literal{null: true}
		}
		if f == "company/name" {
			return str(co.name)
		}
		return str(co.identifier)
	case "department/id", "department/name":
		d := st.departments[c.departmentID]
		if d == nil {
			return literal{null: true}
		}
		if f == "department/id" {
			return literal{k: kindInt, i: d.id}
		}
		return str(d.name)
	}
	return literal{null: true}
}

// contactChildMatch reports whether, for each child collection the clauses
// name, one element of the contact satisfies all of that collection's
// clauses. Caller holds mu.
func (s *Sim) contactChildMatch(c *contact, cs []clause) bool {
	var items, types []clause
	for _, cl := range cs {
		if strings.HasPrefix(cl.field, "types/") {
			types = append(types, cl)
		} else {
			items = append(items, cl)
		}
	}
	if len(items) > 0 {
		found := false
		for _, it := range c.items {
			t := s.data.commTypes[it.typeID]
			if t == nil {
				continue
			}
			if matches(items, func(f string) literal {
				switch f {
				case "communicationitems/value":
					return literal{k: kindString, s: it.value}
				case "communicationitems/communicationtype":
					return literal{k: kindString, s: t.category()}
				case "communicationitems/type/id":
					return literal{k: kindInt, i: t.id}
				case "communicationitems/type/name":
					return literal{k: kindString, s: t.description}
				default:
					return literal{k: kindBool, b: it.defaultFlag}
				}
			}) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(types) > 0 {
		found := false
		for _, id := range c.typeIDs {
			t := s.data.types[id]
			if t != nil && matches(types, func(f string) literal {
				if f == "types/id" {
					return literal{k: kindInt, i: t.id}
				}
				return literal{k: kindString, s: t.description}
			}) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s *Sim) listContacts(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	page, err := list(w, r, listSpec[*contact]{
		items: s.data.contactsOf(0), id: func(c *contact) int { return c.id },
		conds: contactConditions, field: s.contactField,
		child: contactChildConditions, childMatch: s.contactChildMatch,
		custom: customConditions, customMatch: s.contactCustomMatch,
		projects: true,
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]contactJSON, 0, len(page))
	for _, c := range page {
		out = append(out, s.contactJSONOf(c))
	}
	return project(r, out)
}

// pathContact is the contact the request's path names, or the vendor's 404.
func (s *Sim) pathContact(r *http.Request) (*contact, *apiError) {
	return pathRecord(r, "contact", "Contact", s.data.contacts)
}

// pathRecord is the record of table that the request's path segment seg
// names, or Manage's 404 for a label ("Contact", "Company") of that id.
func pathRecord[T any](r *http.Request, seg, label string, table map[int]*T) (*T, *apiError) {
	id, err := pathID(r, seg)
	if err != nil {
		return nil, err
	}
	v := table[id]
	if v == nil {
		return nil, notFound(fmt.Sprintf("%s with id %d was not found.", label, id))
	}
	return v, nil
}

func (s *Sim) createContact(_ http.ResponseWriter, r *http.Request, body []byte) (int, any, *apiError) {
	rec := &contact{id: s.data.nextContact, custom: map[int]any{}}
	if err := s.writeContact(r, body, rec, nil); err != nil {
		return 0, nil, err
	}
	s.data.nextContact++
	return http.StatusCreated, s.contactJSONOf(rec), nil
}

func (s *Sim) putContact(_ http.ResponseWriter, r *http.Request, body []byte) (int, any, *apiError) {
	old, err := s.pathContact(r)
	if err != nil {
		return 0, nil, err
	}
	rec := &contact{id: old.id, custom: map[int]any{}, enteredBy: old.enteredBy}
	if err := s.writeContact(r, body, rec, old); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.contactJSONOf(rec), nil
}

// writeContact fills rec from a POST or PUT body and stores it in the place
// of old (nil for a new contact), once it passes the site's checks.
func (s *Sim) writeContact(r *http.Request, body []byte, rec, old *contact) *apiError {
	var in contactIn
	if err := decodeBody(body, &in); err != nil {
		return err
	}
	if err := s.fillContact(rec, &in, old); err != nil {
		return err
	}
	if err := s.checkContact(rec, old, in.IgnoreDuplicates); err != nil {
		return err
	}
	s.touch(rec, r, old == nil)
	s.data.put(rec, old)
	return nil
}

func (s *Sim) patchContact(_ http.ResponseWriter, r *http.Request, body []byte) (int, any, *apiError) {
	old, err := s.pathContact(r)
	if err != nil {
		return 0, nil, err
	}
	rec := old.clone()
	if err := applyPatch(body, rec, s.applyOp); err != nil {
		return 0, nil, err
	}
	if err := s.checkContact(rec, old, false); err != nil {
		return 0, nil, err
	}
	s.touch(rec, r, false)
	s.data.put(rec, old)
	return http.StatusOK, s.contactJSONOf(rec), nil
}

// touch stamps a written contact's _info fields with the API member.
func (s *Sim) touch(c *contact, _ *http.Request, created bool) {
	c.updated = nowUTC()
	c.updatedBy = s.cfg.publicKey
	if created {
		c.enteredBy = s.cfg.publicKey
	}
}

// decodeBody decodes a JSON request body into v.
func decodeBody(body []byte, v any) *apiError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("the request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("the request body is not valid JSON for this resource: " + err.Error())
	}
	return nil
}

// fillContact sets rec from a POST/PUT body; old is the contact a PUT
// replaces (its communication item ids are kept when the body names them).
func (s *Sim) fillContact(rec *contact, in *contactIn, old *contact) *apiError {
	st := s.data
	setIf(&rec.firstName, in.FirstName)
	setIf(&rec.lastName, in.LastName)
	setIf(&rec.title, in.Title)
	setIf(&rec.inactive, in.InactiveFlag)
	switch {
	case in.Company != nil:
		co, err := s.resolveCompany(*in.Company)
		if err != nil {
			return err
		}
		rec.companyID = co
	case old != nil:
		rec.companyID = old.companyID
	default:
		return invalidContact("MissingRequiredField", "company", "The company field is required.")
	}
	if in.Department != nil {
		d, err := s.resolveDepartment(*in.Department)
		if err != nil {
			return err
		}
		rec.departmentID = d
	}
	for _, t := range in.Types {
		id, err := s.resolveType(t)
		if err != nil {
			return err
		}
		rec.typeIDs = appendUnique(rec.typeIDs, id)
	}
	for _, id := range in.TypeIDs {
		if st.types[id] == nil {
			return invalidContact("InvalidObject", "typeIds", fmt.Sprintf("Contact type %d was not found.", id))
		}
		rec.typeIDs = appendUnique(rec.typeIDs, id)
	}
	items, err := s.commItemsFrom(in.CommunicationItems, old)
	if err != nil {
		return err
	}
	rec.items = items
	return s.setCustomFields(rec, in.CustomFields)
}

func appendUnique(ids []int, id int) []int {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

// checkContact validates a contact about to be stored: required fields,
// email syntax and, unless ignoreDuplicates, Manage's duplicate rule.
func (s *Sim) checkContact(c *contact, old *contact, ignoreDuplicates bool) *apiError {
	if strings.TrimSpace(c.firstName) == "" {
		return invalidContact("MissingRequiredField", "firstName", "The firstName field is required.")
	}
	if s.data.companies[c.companyID] == nil {
		return invalidContact("InvalidObject", "company", fmt.Sprintf("Company %d was not found.", c.companyID))
	}
	for _, it := range c.items {
		if strings.TrimSpace(it.value) == "" {
			return invalidContact("MissingRequiredField", "communicationItems", "Communication item value is required.")
		}
		if t := s.data.commTypes[it.typeID]; t != nil && t.email && !strings.Contains(it.value, "@") {
			return invalidContact("InvalidField", "communicationItems", fmt.Sprintf("%q is not a valid email address.", it.value))
		}
	}
	if ignoreDuplicates {
		return nil
	}
	if e := s.data.duplicateEmail(c, old); e != "" {
		return invalidContact("ObjectExists", "communicationItems",
			fmt.Sprintf("A contact with the email address %s already exists for this company.", e))
	}
	return nil
}

func (s *Sim) resolveCompany(ref refIn) (int, *apiError) {
	if ref.ID.set {
		if s.data.companies[ref.ID.n] == nil {
			return 0, invalidContact("InvalidObject", "company", fmt.Sprintf("Company %d was not found.", ref.ID.n))
		}
		return ref.ID.n, nil
	}
	for _, co := range s.data.companies {
		if (ref.Identifier != "" && strings.EqualFold(co.identifier, ref.Identifier)) || (ref.Name != "" && strings.EqualFold(co.name, ref.Name)) {
			return co.id, nil
		}
	}
	return 0, invalidContact("InvalidObject", "company", "Company reference must name an existing company.")
}

func (s *Sim) resolveDepartment(ref refIn) (int, *apiError) {
	if !ref.ID.set && ref.Name == "" {
		return 0, nil // a contact needs no department
	}
	return resolveSetup(s.data.departments, func(d *department) string { return d.name }, ref, "Department", "department")
}

func (s *Sim) resolveType(ref refIn) (int, *apiError) {
	return resolveSetup(s.data.types, func(t *contactType) string { return t.description }, ref, "Contact type", "types")
}

func (s *Sim) resolveCommType(ref *refIn) (int, *apiError) {
	if ref == nil {
		return 0, invalidContact("MissingRequiredField", "communicationItems", "Communication item type is required.")
	}
	return resolveSetup(s.data.commTypes, func(t *commType) string { return t.description }, *ref, "Communication type", "communicationItems")
}

// resolveSetup resolves a reference into one of Manage's setup tables
// (departments, contact types, communication types): by id when it has
// one, else by name ignoring case. what and field name the table and the
// contact field in the validation error.
func resolveSetup[T any](table map[int]*T, name func(*T) string, ref refIn, what, field string) (int, *apiError) {
	if ref.ID.set {
		if table[ref.ID.n] == nil {
			return 0, invalidContact("InvalidObject", field, fmt.Sprintf("%s %d was not found.", what, ref.ID.n))
		}
		return ref.ID.n, nil
	}
	for id, t := range table {
		if ref.Name != "" && strings.EqualFold(name(t), ref.Name) {
			return id, nil
		}
	}
	return 0, invalidContact("InvalidObject", field, fmt.Sprintf("%s %q was not found.", what, ref.Name))
}

// commItemsFrom converts body items; an item whose id matches one of old's
// items keeps that id, others get new ids.
func (s *Sim) commItemsFrom(in []commItemIn, old *contact) ([]commItem, *apiError) {
	out := make([]commItem, 0, len(in))
	for _, it := range in {
		c, err := s.commItemFrom(it, old, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// commItemFrom converts one body item, starting from base when the body
// patches an existing item.
func (s *Sim) commItemFrom(in commItemIn, old *contact, base *commItem) (commItem, *apiError) {
	var c commItem
	if base != nil {
		c = *base
	}
	if in.Type != nil || base == nil {
		t, err := s.resolveCommType(in.Type)
		if err != nil {
			return c, err
		}
		c.typeID = t
	}
	setIf(&c.value, in.Value)
	setIf(&c.extension, in.Extension)
	setIf(&c.defaultFlag, in.DefaultFlag)
	switch {
	case base != nil:
	case in.ID.set && old != nil && hasItem(old, in.ID.n):
		c.id = in.ID.n
	default:
		c.id = s.data.newItemID()
	}
	return c, nil
}

func hasItem(c *contact, id int) bool {
	for _, it := range c.items {
		if it.id == id {
			return true
		}
	}
	return false
}

// setCustomFields sets the values of the listed custom fields; fields not
// listed keep their value (every custom field always exists on a contact).
func (s *Sim) setCustomFields(c *contact, in []customFieldIn) *apiError {
	for _, f := range in {
		if !f.ID.set || s.data.fields[f.ID.n] == nil {
			return invalidContact("InvalidObject", "customFields", fmt.Sprintf("Custom field %d is not defined for contacts.", f.ID.n))
		}
		if f.Value == nil {
			delete(c.custom, f.ID.n)
			continue
		}
		c.custom[f.ID.n] = f.Value
	}
	return nil
}

// sortedFields lists the contact custom field definitions by id. Caller
// holds mu.
func (s *Sim) sortedFields() []*customField { return sortedDefs(s.data.fields) }

// sortedDefs lists custom field definitions by id.
func sortedDefs(defs map[int]*customField) []*customField {
	out := make([]*customField, 0, len(defs))
	for _, f := range defs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// setIf sets *dst to *v when the body carried the field (v is not nil).
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
