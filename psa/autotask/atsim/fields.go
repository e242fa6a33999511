package atsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// DuplicateEmailError is the simulator's answer (HTTP 500, inside the errors
// array) to a create or update that would give two contacts of one company
// the same primary email address. Autotask's own wording is not published;
// %s is the address, %d the existing contact and company ids.
const DuplicateEmailError = "Duplicate email address: %s is already used by contact %d of company %d."

// contactStringFields are the text fields the simulator stores, by lower-case
// wire name, with Autotask's maximum lengths.
var contactStringFields = map[string]stringField{
	"firstname":      {"firstName", 50, func(c *contact) *string { return &c.firstName }},
	"lastname":       {"lastName", 50, func(c *contact) *string { return &c.lastName }},
	"emailaddress":   {"emailAddress", 254, func(c *contact) *string { return &c.email }},
	"emailaddress2":  {"emailAddress2", 254, func(c *contact) *string { return &c.email2 }},
	"emailaddress3":  {"emailAddress3", 254, func(c *contact) *string { return &c.email3 }},
	"phone":          {"phone", 25, func(c *contact) *string { return &c.phone }},
	"mobilephone":    {"mobilePhone", 25, func(c *contact) *string { return &c.mobilePhone }},
	"alternatephone": {"alternatePhone", 25, func(c *contact) *string { return &c.altPhone }},
	"title":          {"title", 50, func(c *contact) *string { return &c.title }},
	"externalid":     {"externalID", 50, func(c *contact) *string { return &c.externalID }},
}

// stringField is a stored text field: its wire name, Autotask's maximum
// length and where it lives on a contact.
type stringField struct {
	wire   string
	maxLen int
	ptr    func(*contact) *string
}

func (f stringField) get(c *contact) string { return *f.ptr(c) }

// contactReadOnly are ContactModel fields Autotask sets itself.
var contactReadOnly = lowerSet("createDate", "lastModifiedDate", "lastActivityDate",
	"impersonatorCreatorResourceID", "soapParentPropertyId", "bulkEmailOptOutTime",
	"solicitationOptOutTime")

// contactIgnored are writable ContactModel fields the simulator accepts but
// does not store.
var contactIgnored = lowerSet("additionalAddressInformation", "addressLine", "addressLine1",
	"apiVendorID", "city", "companyLocationID", "countryID", "extension", "facebookUrl",
	"faxNumber", "isOptedOutFromBulkEmail", "linkedInUrl", "middleInitial", "namePrefix",
	"nameSuffix", "note", "receivesEmailNotifications", "primaryContact", "roomNumber",
	"solicitationOptOut", "state", "surveyOptOut", "twitterUrl", "zipCode")

func lowerSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// decodeFields reads a write body into fields keyed by lower-case name
// (Autotask reads JSON keys case-insensitively).
func decodeFields(body []byte) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, fmt.Errorf("The request body must be a JSON object.")
	}
	out := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// applyFields writes the given wire fields onto c, checking each as Autotask
// does. The error text is what the client gets in the errors array.
func (s *Sim) applyFields(c *contact, fields map[string]json.RawMessage, parent int64) error {
	for key, raw := range fields {
		if f, ok := contactStringFields[key]; ok {
			v, err := stringValue(raw)
			if err != nil {
				return fmt.Errorf("%s must be a string.", f.wire)
			}
			if len([]rune(v)) > f.maxLen {
				return fmt.Errorf("Value for field %s exceeds the maximum length of %d characters.", f.wire, f.maxLen)
			}
			*f.ptr(c) = v
			continue
		}
		switch {
		case key == "isactive":
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil {
				return fmt.Errorf("isActive must be an integer (1 active, 0 inactive).")
			}
			switch n.String() {
			case "1":
				c.active = true
			case "0":
				c.active = false
			default:
				return fmt.Errorf("isActive must be an integer (1 active, 0 inactive).")
			}
		case key == "companyid":
			var n int64
			if err := json.Unmarshal(raw, &n); err != nil || n != parent {
				return fmt.Errorf("companyID must match the parent company %d of the request URL.", parent)
			}
		case key == "userdefinedfields":
			if err := s.applyUDFs(c, raw); err != nil {
				return err
			}
		case contactReadOnly[key]:
			return fmt.Errorf("%s is read-only.", key)
		case contactIgnored[key]:
		default:
			return fmt.Errorf("%q is not a field of Contacts.", key)
		}
	}
	return nil
}

func (s *Sim) applyUDFs(c *contact, raw json.RawMessage) error {
	return applyUDFValues(c.udfs, raw, s.udfName, "Contacts")
}

// applyUDFValues writes a userDefinedFields array onto dst, resolving each
// name with resolve (the entity's defined UDFs); an empty value clears one.
func applyUDFValues(dst map[string]string, raw json.RawMessage, resolve func(string) (string, bool), entity string) error {
	var udfs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &udfs); err != nil {
		return fmt.Errorf("userDefinedFields must be an array of {name, value}.")
	}
	for _, u := range udfs {
		lower := make(map[string]json.RawMessage, len(u))
		for k, v := range u {
			lower[strings.ToLower(k)] = v
		}
		name, err := stringValue(lower["name"])
		if err != nil || name == "" {
			return fmt.Errorf("Every user-defined field needs a name.")
		}
		canon, ok := resolve(name)
		if !ok {
			return fmt.Errorf("User-defined field %q does not exist for %s.", name, entity)
		}
		v, err := stringValue(lower["value"])
		if err != nil {
			return fmt.Errorf("The value of user-defined field %q must be a string.", name)
		}
		if v == "" {
			delete(dst, canon)
		} else {
			dst[canon] = v
		}
	}
	return nil
}

// stringValue reads a JSON string; null or absent reads as "".
func stringValue(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

// checkContactLocked enforces the required fields and the duplicate-email
// rule on a contact about to be stored. s.mu must be held.
func (s *Sim) checkContactLocked(c *contact, oldEmail string) error {
	if strings.TrimSpace(c.firstName) == "" {
		return fmt.Errorf("firstName is required.")
	}
	if strings.TrimSpace(c.lastName) == "" {
		return fmt.Errorf("lastName is required.")
	}
	for _, e := range []string{c.email, c.email2, c.email3} {
		if e != "" && !strings.Contains(e, "@") {
			return fmt.Errorf("%s is not a valid email address.", strconv.Quote(e))
		}
	}
	// Only an address the write gives the contact is checked: a contact
	// that shares its unchanged address with another (made before the rule,
	// or by an import) can still be edited.
	if s.cfg.allowDuplicateEmails || c.email == "" || strings.EqualFold(c.email, oldEmail) {
		return nil
	}
	for _, other := range s.contacts {
		if other.id != c.id && other.companyID == c.companyID && strings.EqualFold(other.email, c.email) {
			return fmt.Errorf(DuplicateEmailError, c.email, other.id, other.companyID)
		}
	}
	return nil
}
