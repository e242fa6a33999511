// Package psa is the seam between the sync engine and a PSA vendor: a neutral
// contact, the few calls the engine makes, and the error classes it branches
// on. Vendor packages (psa/connectwise, psa/autotask, psa/halopsa) implement
// Client; nothing above psa sees a vendor wire type.
package psa

import (
	"fmt"
	"strconv"
	"strings"
)

// Field names a canonical contact field. The names are part of psasync's
// contract: they appear in run reports (changed_fields) and in mapping config.
type Field string

// Canonical contact fields, as DESIGN.md fixes them.
const (
	FieldFirstName      Field = "first_name"
	FieldLastName       Field = "last_name"
	FieldEmail          Field = "email"
	FieldPhone          Field = "phone"
	FieldMobilePhone    Field = "mobile_phone"
	FieldJobTitle       Field = "job_title"
	FieldDepartment     Field = "department"
	FieldOfficeLocation Field = "office_location"
	FieldContactType    Field = "contact_type"
	FieldInactive       Field = "inactive"
	// FieldExternalID is the link to the Microsoft 365 object id, kept in a
	// vendor field (a ConnectWise custom field, Autotask externalID, Halo
	// azureoid). It is written when psasync adopts an existing contact.
	FieldExternalID Field = "m365_object_id"
)

// CanonicalFields lists the mapped fields in their stable report order.
var CanonicalFields = []Field{
	FieldFirstName, FieldLastName, FieldEmail, FieldPhone, FieldMobilePhone,
	FieldJobTitle, FieldDepartment, FieldOfficeLocation, FieldContactType, FieldInactive,
}

// Contact is a PSA contact in vendor-neutral form. IDs are strings so that
// every vendor's id type fits; vendors parse them back.
type Contact struct {
	// ID is the PSA's contact id; empty for a contact not yet created.
	ID string `json:"id,omitempty"`
	// CompanyID is the PSA company (ConnectWise company, Autotask company,
	// Halo client) the contact belongs to.
	CompanyID string `json:"company_id"`
	// ExternalID is the Microsoft 365 object id psasync stored on the
	// contact, empty when the contact was not created or adopted by psasync.
	ExternalID     string `json:"m365_object_id,omitempty"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Email          string `json:"email"`
	Phone          string `json:"phone,omitempty"`
	MobilePhone    string `json:"mobile_phone,omitempty"`
	JobTitle       string `json:"job_title,omitempty"`
	Department     string `json:"department,omitempty"`
	OfficeLocation string `json:"office_location,omitempty"`
	// ContactType is the PSA's contact type, by name or by numeric id; the
	// vendor client resolves names.
	ContactType string `json:"contact_type,omitempty"`
	Inactive    bool   `json:"inactive"`
}

// Get returns the value of a canonical field as a string ("true"/"false"
// for inactive), so that diffs and reports treat all fields alike.
func (c Contact) Get(f Field) string {
	if f == FieldInactive {
		return strconv.FormatBool(c.Inactive)
	}
	if p := c.text(f); p != nil {
		return *p
	}
	return ""
}

// Set assigns a canonical field from its string form; it reports false for
// an unknown field name.
func (c *Contact) Set(f Field, v string) bool {
	if f == FieldInactive {
		c.Inactive = v == "true"
		return true
	}
	p := c.text(f)
	if p != nil {
		*p = v
	}
	return p != nil
}

// text is where a text field of c lives; nil for inactive and unknown names.
func (c *Contact) text(f Field) *string {
	switch f {
	case FieldFirstName:
		return &c.FirstName
	case FieldLastName:
		return &c.LastName
	case FieldEmail:
		return &c.Email
	case FieldPhone:
		return &c.Phone
	case FieldMobilePhone:
		return &c.MobilePhone
	case FieldJobTitle:
		return &c.JobTitle
	case FieldDepartment:
		return &c.Department
	case FieldOfficeLocation:
		return &c.OfficeLocation
	case FieldContactType:
		return &c.ContactType
	case FieldExternalID:
		return &c.ExternalID
	}
	return nil
}

// IsField reports whether name is a canonical field or the link field.
func IsField(name string) bool {
	var c Contact
	return c.Set(Field(name), "")
}

// FindArgs reads the arguments of a FindContactsBy call, so that every
// vendor client refuses bad ones alike before anything is sent: the company
// id, read by the vendor's parse, and the value to match (an email or object
// id, what naming it), trimmed and refused empty as ErrInvalid under op.
func FindArgs[ID any](op, companyID, what, value string, parse func(op, what, id string) (ID, error)) (ID, string, error) {
	id, err := parse(op, "company id", companyID)
	if err != nil {
		return id, "", err
	}
	value = strings.TrimSpace(value)
	if value == "" {
		var zero ID
		return zero, "", &Error{Op: op, Kind: ErrInvalid, Message: what + " is empty"}
	}
	return id, value, nil
}

// FieldSet is the set of fields an UpdateContact call lists, refusing a name
// that is not a field (as ErrInvalid under op) before anything is sent.
func FieldSet(op string, fields []Field) (map[Field]bool, error) {
	set := make(map[Field]bool, len(fields))
	for _, f := range fields {
		if !IsField(string(f)) {
			return nil, &Error{Op: op, Kind: ErrInvalid, Message: fmt.Sprintf("unknown contact field %q", f)}
		}
		set[f] = true
	}
	return set, nil
}
