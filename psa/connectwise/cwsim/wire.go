package cwsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// The simulator's own rendering of Manage's JSON (Contact,
// ContactCommunicationItem, CustomFieldValue, the *Reference types,
// ContactType, ContactDepartment, CommunicationType, Company, Info), written
// from the vendor's OpenAPI document. It shares nothing with the client.

type refJSON struct {
	ID         int               `json:"id"`
	Identifier string            `json:"identifier,omitempty"`
	Name       string            `json:"name,omitempty"`
	Info       map[string]string `json:"_info,omitempty"`
}

type commItemJSON struct {
	ID                int     `json:"id"`
	Type              refJSON `json:"type"`
	Value             string  `json:"value"`
	Extension         string  `json:"extension,omitempty"`
	DefaultFlag       bool    `json:"defaultFlag"`
	CommunicationType string  `json:"communicationType"`
}

type customFieldJSON struct {
	ID               int    `json:"id"`
	Caption          string `json:"caption"`
	Type             string `json:"type"`
	EntryMethod      string `json:"entryMethod"`
	NumberOfDecimals int    `json:"numberOfDecimals"`
	Value            any    `json:"value"`
	ConnectWiseID    string `json:"connectWiseId"`
}

type contactJSON struct {
	ID                 int               `json:"id"`
	FirstName          string            `json:"firstName"`
	LastName           string            `json:"lastName,omitempty"`
	Company            *refJSON          `json:"company,omitempty"`
	InactiveFlag       bool              `json:"inactiveFlag"`
	Title              string            `json:"title,omitempty"`
	Department         *refJSON          `json:"department,omitempty"`
	DefaultPhoneType   string            `json:"defaultPhoneType,omitempty"`
	DefaultPhoneNbr    string            `json:"defaultPhoneNbr,omitempty"`
	CommunicationItems []commItemJSON    `json:"communicationItems"`
	Types              []refJSON         `json:"types"`
	CustomFields       []customFieldJSON `json:"customFields"`
	IgnoreDuplicates   bool              `json:"ignoreDuplicates"`
	Info               map[string]string `json:"_info"`
}

type contactTypeJSON struct {
	ID          int               `json:"id"`
	Description string            `json:"description"`
	DefaultFlag bool              `json:"defaultFlag"`
	Info        map[string]string `json:"_info"`
}

type departmentJSON struct {
	ID   int               `json:"id"`
	Name string            `json:"name"`
	Info map[string]string `json:"_info"`
}

type commTypeJSON struct {
	ID          int               `json:"id"`
	Description string            `json:"description"`
	PhoneFlag   bool              `json:"phoneFlag"`
	FaxFlag     bool              `json:"faxFlag"`
	EmailFlag   bool              `json:"emailFlag"`
	DefaultFlag bool              `json:"defaultFlag"`
	Info        map[string]string `json:"_info"`
}

type companyJSON struct {
	ID           int               `json:"id"`
	Identifier   string            `json:"identifier"`
	Name         string            `json:"name"`
	Status       *refJSON          `json:"status,omitempty"`
	Website      string            `json:"website,omitempty"`
	DeletedFlag  bool              `json:"deletedFlag"`
	CustomFields []customFieldJSON `json:"customFields"`
	Info         map[string]string `json:"_info"`
}

type infoJSON struct {
	Version        string `json:"version"`
	IsCloud        bool   `json:"isCloud"`
	ServerTimeZone string `json:"serverTimeZone"`
	CloudRegion    string `json:"cloudRegion"`
}

// contactJSONOf renders a stored contact. Caller holds mu.
func (s *Sim) contactJSONOf(c *contact) contactJSON {
	st := s.data
	out := contactJSON{
		ID:                 c.id,
		FirstName:          c.firstName,
		LastName:           c.lastName,
		InactiveFlag:       c.inactive,
		Title:              c.title,
		CommunicationItems: []commItemJSON{},
		Types:              []refJSON{},
		CustomFields:       []customFieldJSON{},
		Info: map[string]string{
			"lastUpdated": c.updated.Format(time.RFC3339),
			"updatedBy":   c.updatedBy,
			"enteredBy":   c.enteredBy,
		},
	}
	if co := st.companies[c.companyID]; co != nil {
		out.Company = &refJSON{ID: co.id, Identifier: co.identifier, Name: co.name,
			Info: map[string]string{"company_href": s.apiURL("/company/companies/" + strconv.Itoa(co.id))}}
	}
	if d := st.departments[c.departmentID]; d != nil {
		out.Department = &refJSON{ID: d.id, Name: d.name}
	}
	for _, it := range c.items {
		t := st.commTypes[it.typeID]
		if t == nil {
			continue
		}
		out.CommunicationItems = append(out.CommunicationItems, commItemJSON{
			ID: it.id, Type: refJSON{ID: t.id, Name: t.description}, Value: it.value,
			Extension: it.extension, DefaultFlag: it.defaultFlag, CommunicationType: t.category(),
		})
		if t.phone && it.defaultFlag && out.DefaultPhoneNbr == "" {
			out.DefaultPhoneType, out.DefaultPhoneNbr = t.description, it.value
		}
	}
	for _, id := range c.typeIDs {
		if t := st.types[id]; t != nil {
			out.Types = append(out.Types, refJSON{ID: t.id, Name: t.description})
		}
	}
	for _, f := range s.sortedFields() {
		out.CustomFields = append(out.CustomFields, customFieldJSON{
			ID: f.id, Caption: f.caption, Type: f.kind, EntryMethod: f.entry,
			Value: c.custom[f.id], ConnectWiseID: f.cwID,
		})
	}
	return out
}

// apiURL is an absolute API URL for _info links.
func (s *Sim) apiURL(path string) string {
	return s.BaseURL() + APIPath + path
}

// flexInt is an id in a request body: Manage accepts 26 and "26" alike.
type flexInt struct {
	set bool
	n   int
}

// UnmarshalJSON accepts a number, a numeric string or null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = flexInt{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("id %s is not a whole number", b)
	}
	*f = flexInt{set: true, n: n}
	return nil
}

// refIn is a reference in a request body: by id, or by name/identifier.
type refIn struct {
	ID         flexInt `json:"id"`
	Name       string  `json:"name"`
	Identifier string  `json:"identifier"`
}

type commItemIn struct {
	ID                flexInt `json:"id"`
	Type              *refIn  `json:"type"`
	Value             *string `json:"value"`
	Extension         *string `json:"extension"`
	DefaultFlag       *bool   `json:"defaultFlag"`
	CommunicationType string  `json:"communicationType"`
}

type customFieldIn struct {
	ID    flexInt `json:"id"`
	Value any     `json:"value"`
}

// contactIn is a POST or PUT body.
type contactIn struct {
	FirstName          *string         `json:"firstName"`
	LastName           *string         `json:"lastName"`
	Company            *refIn          `json:"company"`
	Title              *string         `json:"title"`
	InactiveFlag       *bool           `json:"inactiveFlag"`
	Department         *refIn          `json:"department"`
	CommunicationItems []commItemIn    `json:"communicationItems"`
	Types              []refIn         `json:"types"`
	TypeIDs            []int           `json:"typeIds"`
	CustomFields       []customFieldIn `json:"customFields"`
	IgnoreDuplicates   bool            `json:"ignoreDuplicates"`
}
