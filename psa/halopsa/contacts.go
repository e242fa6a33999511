package halopsa

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

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
	t := strings.TrimSpace(string(b))
	if strings.HasPrefix(t, "[") {
		return json.Unmarshal(b, (*[]haloUser)(s))
	}
	var u haloUser
	if err := json.Unmarshal(b, &u); err != nil {
		return err
	}
	*s = savedUsers{u}
	return nil
}

// ListContacts yields every user of the Halo client companyID, active and
// inactive, one page read at a time.
func (c *Client) ListContacts(ctx context.Context, companyID string) iter.Seq2[psa.Contact, error] {
	const op = "halopsa: list contacts"
	return func(yield func(psa.Contact, error) bool) {
		clientID, err := parseID(op, "company id", companyID)
		if err != nil {
			yield(psa.Contact{}, err)
			return
		}
		q := url.Values{"client_id": {strconv.Itoa(clientID)}, "includeinactive": {"true"}}
		for users, err := range c.userPages(ctx, op+" of client "+companyID, q) {
			if err != nil {
				yield(psa.Contact{}, err)
				return
			}
			for _, u := range users {
				if !yield(c.toContact(u, clientID), nil) {
					return
				}
			}
		}
	}
}

// FindContactsByEmail returns the client's users whose email address equals
// email, ignoring case. Halo's search parameter is a "like" match on name
// and email, so the exact comparison is done here.
func (c *Client) FindContactsByEmail(ctx context.Context, companyID, email string) ([]psa.Contact, error) {
	const op = "halopsa: find contacts by email"
	clientID, err := parseID(op, "company id", companyID)
	if err != nil {
		return nil, err
	}
	email = strings.TrimSpace(email)
	if email == "" {
		return nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "email is empty"}
	}
	q := url.Values{"client_id": {strconv.Itoa(clientID)}, "includeinactive": {"true"}, "search": {email}}
	var out []psa.Contact
	for users, err := range c.userPages(ctx, op+" in client "+companyID, q) {
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if !strings.EqualFold(strings.TrimSpace(u.EmailAddress), email) {
				continue
			}
			if u.ClientID != 0 && u.ClientID != clientID {
				continue
			}
			out = append(out, c.toContact(u, clientID))
		}
	}
	return out, nil
}

// GetContact reads one user by id; psa.ErrNotFound when Halo has none.
func (c *Client) GetContact(ctx context.Context, id string) (psa.Contact, error) {
	op := "halopsa: get contact " + id
	userID, err := parseID(op, "contact id", id)
	if err != nil {
		return psa.Contact{}, err
	}
	var u haloUser
	if err := c.do(ctx, op, http.MethodGet, "/Users/"+strconv.Itoa(userID), nil, nil, &u); err != nil {
		return psa.Contact{}, err
	}
	if u.ID == 0 {
		// Some Halo versions answer 200 with an empty record for a missing id.
		return psa.Contact{}, &psa.Error{Op: op, Kind: psa.ErrNotFound, StatusCode: http.StatusOK, Message: "Halo returned an empty user"}
	}
	return c.toContact(u, 0), nil
}

// CreateContact creates a user in the Halo client ct.CompanyID (in
// Config.SiteID when set) with every synced field that has a value.
func (c *Client) CreateContact(ctx context.Context, ct psa.Contact) (psa.Contact, error) {
	const op = "halopsa: create contact"
	clientID, err := parseID(op, "company id", ct.CompanyID)
	if err != nil {
		return psa.Contact{}, err
	}
	if ct.ID != "" {
		return psa.Contact{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "contact already has id " + ct.ID}
	}
	name := displayName(ct)
	if name == "" {
		return psa.Contact{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "contact has no name and no email"}
	}
	item := map[string]any{"name": name, "client_id": clientID}
	if c.cfg.SiteID > 0 {
		item["site_id"] = c.cfg.SiteID
	}
	for _, f := range c.SupportedFields() {
		if f == psa.FieldInactive {
			if ct.Inactive {
				item["inactive"] = true
			}
			continue
		}
		if v := ct.Get(f); v != "" {
			c.setField(item, f, v)
		}
	}
	return c.save(ctx, op, item, clientID)
}

// UpdateContact sends ct.ID with only the listed fields that this client
// syncs (see SupportedFields); a change of first or last name also rewrites
// Halo's display name. When no listed field is synced, nothing is sent and
// ct is returned with the unsynced fields empty, as Halo holds them.
func (c *Client) UpdateContact(ctx context.Context, ct psa.Contact, fields []psa.Field) (psa.Contact, error) {
	op := "halopsa: update contact " + ct.ID
	userID, err := parseID(op, "contact id", ct.ID)
	if err != nil {
		return psa.Contact{}, err
	}
	synced := map[psa.Field]bool{}
	for _, f := range c.SupportedFields() {
		synced[f] = true
	}
	item := map[string]any{"id": userID}
	for _, f := range fields {
		if !psa.IsField(string(f)) {
			return psa.Contact{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: fmt.Sprintf("unknown field %q", f)}
		}
		if !synced[f] {
			c.send.Log.WithField("field", f).Debug("halopsa field not synced, skipped")
			continue
		}
		switch f {
		case psa.FieldInactive:
			item["inactive"] = ct.Inactive
		case psa.FieldFirstName, psa.FieldLastName:
			c.setField(item, f, ct.Get(f))
			item["name"] = displayName(ct)
		default:
			c.setField(item, f, ct.Get(f))
		}
	}
	if len(item) == 1 {
		out := ct
		for _, f := range psa.CanonicalFields {
			if !synced[f] {
				out.Set(f, "")
			}
		}
		return out, nil
	}
	clientID, _ := strconv.Atoi(ct.CompanyID)
	return c.save(ctx, op, item, clientID)
}

// save posts one item to /api/Users and returns the user Halo saved.
func (c *Client) save(ctx context.Context, op string, item map[string]any, clientID int) (psa.Contact, error) {
	var saved savedUsers
	if err := c.do(ctx, op, http.MethodPost, "/Users", nil, []map[string]any{item}, &saved); err != nil {
		return psa.Contact{}, err
	}
	if len(saved) == 0 || saved[0].ID == 0 {
		return psa.Contact{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: http.StatusOK, Message: "Halo answered without a user id"}
	}
	return c.toContact(saved[0], clientID), nil
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

// parseID reads a Halo id (a positive int32) from its string form.
func parseID(op, what, s string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || n <= 0 {
		if strings.TrimSpace(s) == "" {
			return 0, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: what + " is empty"}
		}
		return 0, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: fmt.Sprintf("%s %q is not a Halo id", what, s)}
	}
	return int(n), nil
}
