package connectwise

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// The parts of Manage's Contact schema the client reads and writes.

// ref is a Manage reference (CompanyReference, ContactTypeReference, ...).
type ref struct {
	ID   int    `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// commItem is a ContactCommunicationItem. Items read from Manage are sent
// back unchanged (with their id) when the client replaces the array.
type commItem struct {
	ID                int    `json:"id,omitempty"`
	Type              ref    `json:"type"`
	Value             string `json:"value"`
	Extension         string `json:"extension,omitempty"`
	DefaultFlag       bool   `json:"defaultFlag"`
	Domain            string `json:"domain,omitempty"`
	CommunicationType string `json:"communicationType,omitempty"`
}

// customField is a CustomFieldValue. Value is whatever Manage stores (text,
// number, boolean or null); the definition fields are sent back as read.
type customField struct {
	ID               int     `json:"id"`
	Caption          string  `json:"caption,omitempty"`
	Type             *string `json:"type,omitempty"`
	EntryMethod      *string `json:"entryMethod,omitempty"`
	NumberOfDecimals *int    `json:"numberOfDecimals,omitempty"`
	Value            any     `json:"value"`
	ConnectWiseID    string  `json:"connectWiseId,omitempty"`
}

// wireContact is a Contact as Manage returns it and as POST
// /company/contacts takes it: a create leaves id out and always sends
// firstName, company and inactiveFlag.
type wireContact struct {
	ID                 int           `json:"id,omitempty"`
	FirstName          string        `json:"firstName"`
	LastName           string        `json:"lastName,omitempty"`
	Company            *ref          `json:"company"`
	Title              string        `json:"title,omitempty"`
	InactiveFlag       *bool         `json:"inactiveFlag"`
	Department         *ref          `json:"department,omitempty"`
	CommunicationItems []commItem    `json:"communicationItems,omitempty"`
	Types              []ref         `json:"types,omitempty"`
	CustomFields       []customField `json:"customFields,omitempty"`
}

// patchOp is one JSON Patch operation of PATCH /company/contacts/{id}.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// isEmail reports whether a communication item is an email address.
func (it commItem) isEmail() bool {
	if it.CommunicationType != "" {
		return strings.EqualFold(it.CommunicationType, "Email")
	}
	return strings.EqualFold(it.Type.Name, commTypeEmail)
}

// slot names which of a contact's communication items a canonical field
// lives in.
type slot int

const (
	slotEmail slot = iota
	slotPhone
	slotMobile
)

// matches reports whether it belongs to the slot.
func (s slot) matches(it commItem) bool {
	switch s {
	case slotEmail:
		return it.isEmail()
	case slotPhone:
		return strings.EqualFold(it.Type.Name, commTypeDirect)
	default:
		return strings.EqualFold(it.Type.Name, commTypeMobile)
	}
}

// typeName is the communication type a new item of the slot gets.
func (s slot) typeName() string {
	switch s {
	case slotEmail:
		return commTypeEmail
	case slotPhone:
		return commTypeDirect
	default:
		return commTypeMobile
	}
}

// category is the communicationType Manage reports for the slot's items.
func (s slot) category() string {
	if s == slotEmail {
		return "Email"
	}
	return "Phone"
}

// find returns the index of the slot's item: its default item, else its
// first item, else -1.
func (s slot) find(items []commItem) int {
	first := -1
	for i, it := range items {
		if !s.matches(it) {
			continue
		}
		if it.DefaultFlag {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// contact converts a Manage contact to psasync's neutral form.
func (c *Client) contact(w wireContact) psa.Contact {
	out := psa.Contact{
		ID:        strconv.Itoa(w.ID),
		FirstName: w.FirstName,
		LastName:  w.LastName,
		JobTitle:  w.Title,
		Inactive:  w.InactiveFlag != nil && *w.InactiveFlag,
	}
	if w.Company != nil && w.Company.ID != 0 {
		out.CompanyID = strconv.Itoa(w.Company.ID)
	}
	if w.Department != nil {
		out.Department = w.Department.Name
	}
	if len(w.Types) > 0 {
		out.ContactType = w.Types[0].Name
	}
	for s, dst := range map[slot]*string{slotEmail: &out.Email, slotPhone: &out.Phone, slotMobile: &out.MobilePhone} {
		if i := s.find(w.CommunicationItems); i >= 0 {
			*dst = w.CommunicationItems[i].Value
		}
	}
	c.learnCaption(w.CustomFields)
	out.ExternalID = customValue(w.CustomFields, c.objectField)
	out.OfficeLocation = customValue(w.CustomFields, c.officeField)
	return out
}

// customValue is the text of custom field id, "" when unset or id is 0.
func customValue(fields []customField, id int) string {
	if id == 0 {
		return ""
	}
	for _, f := range fields {
		if f.ID != id {
			continue
		}
		if f.Value == nil {
			return ""
		}
		return fmt.Sprint(f.Value)
	}
	return ""
}
