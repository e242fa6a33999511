package halopsa

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// Halo's Users resource as the client reads and writes it, and its
// conversion to and from psa.Contact.

// haloUser is the part of Halo's Users object psasync reads.
type haloUser struct {
	ID           int               `json:"id"`
	Name         string            `json:"name"`
	FirstName    string            `json:"firstname"`
	Surname      string            `json:"surname"`
	EmailAddress string            `json:"emailaddress"`
	PhoneNumber  string            `json:"phonenumber"`
	MobileNumber string            `json:"mobilenumber"`
	Title        string            `json:"title"`
	Department   string            `json:"department"`
	Inactive     bool              `json:"inactive"`
	AzureOID     string            `json:"azureoid"`
	ClientID     int               `json:"client_id"`
	CustomFields []haloCustomField `json:"customfields"`
}

// haloCustomField is one entry of a user's customfields.
type haloCustomField struct {
	ID    int             `json:"id"`
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// savedUsers is the answer to POST /api/Users: the saved user, or an array
// of them.
type savedUsers []haloUser

// UnmarshalJSON accepts one user object or an array.
func (s *savedUsers) UnmarshalJSON(b []byte) error {
	return oneOrMany(b, (*[]haloUser)(s))
}

// oneOrMany decodes a Halo save answer, one object or an array of them,
// into *dst as a slice.
func oneOrMany[T any](b []byte, dst *[]T) error {
	if strings.HasPrefix(strings.TrimSpace(string(b)), "[") {
		return json.Unmarshal(b, dst)
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*dst = []T{one}
	return nil
}

// userPage is the envelope of GET /api/Users with pageinate=true. Halo
// answers a bare array when pagination is off; both forms are accepted.
type userPage struct {
	RecordCount *int       `json:"record_count"`
	Users       []haloUser `json:"users"`
}

// UnmarshalJSON accepts the envelope or a bare array of users.
func (p *userPage) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		p.RecordCount = nil
		return json.Unmarshal(t, &p.Users)
	}
	type plain userPage
	return json.Unmarshal(b, (*plain)(p))
}

// userFields are the Halo user fields that hold canonical fields.
var userFields = map[psa.Field]string{
	psa.FieldFirstName: "firstname", psa.FieldLastName: "surname", psa.FieldEmail: "emailaddress",
	psa.FieldPhone: "phonenumber", psa.FieldMobilePhone: "mobilenumber", psa.FieldJobTitle: "title",
	psa.FieldDepartment: "department", psa.FieldExternalID: "azureoid",
}

// setField writes one canonical field into a POST item under Halo's name,
// or into the configured custom field.
func (c *Client) setField(item map[string]any, f psa.Field, v string) {
	switch f {
	case psa.FieldOfficeLocation:
		addCustomField(item, c.cfg.OfficeLocationField, v)
	case psa.FieldContactType:
		addCustomField(item, c.cfg.ContactTypeField, v)
	default:
		if name, ok := userFields[f]; ok {
			item[name] = v
		}
	}
}

// addCustomField appends {"name","value"} to the item's customfields.
func addCustomField(item map[string]any, name, value string) {
	cfs, _ := item["customfields"].([]map[string]any)
	item["customfields"] = append(cfs, map[string]any{"name": name, "value": value})
}

// toContact converts a Halo user; fallbackClient fills CompanyID when the
// answer has no client_id.
func (c *Client) toContact(u haloUser, fallbackClient int) psa.Contact {
	clientID := u.ClientID
	if clientID == 0 {
		clientID = fallbackClient
	}
	first, last := u.FirstName, u.Surname
	if first == "" && last == "" && u.Name != "" {
		// Users typed into Halo by hand often have only a display name.
		first, last, _ = strings.Cut(strings.TrimSpace(u.Name), " ")
		last = strings.TrimSpace(last)
	}
	ct := psa.Contact{
		ID:          strconv.Itoa(u.ID),
		ExternalID:  u.AzureOID,
		FirstName:   first,
		LastName:    last,
		Email:       u.EmailAddress,
		Phone:       u.PhoneNumber,
		MobilePhone: u.MobileNumber,
		JobTitle:    u.Title,
		Department:  u.Department,
		Inactive:    u.Inactive,
	}
	if clientID != 0 {
		ct.CompanyID = strconv.Itoa(clientID)
	}
	if c.cfg.OfficeLocationField != "" {
		ct.OfficeLocation = customValue(u.CustomFields, c.cfg.OfficeLocationField)
	}
	if c.cfg.ContactTypeField != "" {
		ct.ContactType = customValue(u.CustomFields, c.cfg.ContactTypeField)
	}
	return ct
}

// customValue returns a custom field's value as text ("" when absent).
func customValue(cfs []haloCustomField, name string) string {
	for _, cf := range cfs {
		if !strings.EqualFold(cf.Name, name) {
			continue
		}
		var v any
		if len(cf.Value) == 0 || json.Unmarshal(cf.Value, &v) != nil || v == nil {
			return ""
		}
		if s, ok := v.(string); ok {
			return s
		}
		return strings.TrimSpace(string(cf.Value))
	}
	return ""
}

// displayName is Halo's "name": first and last name, or the email address.
func displayName(ct psa.Contact) string {
	if n := strings.TrimSpace(strings.TrimSpace(ct.FirstName) + " " + strings.TrimSpace(ct.LastName)); n != "" {
		return n
	}
	return strings.TrimSpace(ct.Email)
}
