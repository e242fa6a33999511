package connectwise

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// ListContacts yields every contact of a company, active and inactive:
// GET /company/contacts?conditions=company/id=N&pageSize=1000 with
// forward-only paging, one read per page.
func (c *Client) ListContacts(ctx context.Context, companyID string) iter.Seq2[psa.Contact, error] {
	op := "connectwise: list contacts of company " + companyID
	id, err := parseID(op, "company id", companyID)
	if err != nil {
		return psa.FailedSeq[psa.Contact](err)
	}
	return psa.ConvertSeq(listAll[wireContact](ctx, c, op, c.companyContacts(id, c.pageSize, nil)), c.contact)
}

// FindContactsByEmail returns the company's contacts that have email as
// one of their email communication items, ignoring case. Manage filters
// with childConditions on communicationItems; the client checks the answer
// again so that a looser server-side match cannot slip through.
func (c *Client) FindContactsByEmail(ctx context.Context, companyID, email string) ([]psa.Contact, error) {
	op := "connectwise: find contacts by email"
	id, email, err := psa.FindArgs(op, companyID, "email", email, parseID)
	if err != nil {
		return nil, err
	}
	u := c.companyContacts(id, c.pageSize, url.Values{
		"childConditions": {fmt.Sprintf(`communicationItems/value=%s AND communicationItems/communicationType="Email"`, quote(email))},
	})
	var out []psa.Contact
	for w, err := range listAll[wireContact](ctx, c, op, u) {
		if err != nil {
			return nil, err
		}
		for _, it := range w.CommunicationItems {
			if it.isEmail() && strings.EqualFold(strings.TrimSpace(it.Value), email) {
				out = append(out, c.contact(w))
				break
			}
		}
	}
	return out, nil
}

// companyContacts is the URL of the contacts of company id, pageSize a page,
// narrowed by the conditions in more (childConditions,
// customFieldConditions).
func (c *Client) companyContacts(id, pageSize int, more url.Values) *url.URL {
	q := url.Values{"conditions": {fmt.Sprintf("company/id=%d", id)}, "pageSize": {strconv.Itoa(pageSize)}}
	maps.Copy(q, more)
	return c.endpoint("/company/contacts", q)
}

// quote writes s as a Manage condition string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// GetContact reads one contact; psa.ErrNotFound when it does not exist.
func (c *Client) GetContact(ctx context.Context, id string) (psa.Contact, error) {
	op := "connectwise: get contact " + id
	n, err := parseID(op, "contact id", id)
	if err != nil {
		return psa.Contact{}, err
	}
	w, err := c.getWire(ctx, op, n)
	if err != nil {
		return psa.Contact{}, err
	}
	return c.contact(w), nil
}

// getWire reads one contact in Manage's form.
func (c *Client) getWire(ctx context.Context, op string, id int) (wireContact, error) {
	var w wireContact
	_, err := c.do(ctx, request{op: op, method: http.MethodGet, url: c.endpoint("/company/contacts/"+strconv.Itoa(id), nil), out: &w})
	return w, err
}

// CreateContact creates ct in company ct.CompanyID: email as the default
// "Email" item, phone as the default "Direct" item, mobile as a "Mobile"
// item; ContactType (a name, or a numeric id) as its type; Department by
// name; ExternalID and OfficeLocation in their configured custom fields.
// Names that do not exist in Manage are psa.ErrInvalid errors naming them,
// and nothing is written. Manage refusing a second contact with the same
// email is psa.ErrDuplicate.
func (c *Client) CreateContact(ctx context.Context, ct psa.Contact) (psa.Contact, error) {
	op := "connectwise: create contact"
	company, err := parseID(op, "company id", ct.CompanyID)
	if err != nil {
		return psa.Contact{}, err
	}
	body := wireContact{
		FirstName:    ct.FirstName,
		LastName:     ct.LastName,
		Company:      &ref{ID: company},
		Title:        ct.JobTitle,
		InactiveFlag: &ct.Inactive,
	}
	if strings.TrimSpace(ct.Department) != "" {
		id, err := c.resolve(ctx, c.departments, ct.Department)
		if err != nil {
			return psa.Contact{}, err
		}
		body.Department = &ref{ID: id}
	}
	if strings.TrimSpace(ct.ContactType) != "" {
		id, err := c.contactTypeID(ctx, ct.ContactType)
		if err != nil {
			return psa.Contact{}, err
		}
		body.Types = []ref{{ID: id}}
	}
	for _, it := range []struct {
		s     slot
		value string
	}{{slotEmail, ct.Email}, {slotPhone, ct.Phone}, {slotMobile, ct.MobilePhone}} {
		if strings.TrimSpace(it.value) == "" {
			continue
		}
		item, err := c.newItem(ctx, it.s, it.value, nil)
		if err != nil {
			return psa.Contact{}, err
		}
		body.CommunicationItems = append(body.CommunicationItems, item)
	}
	if c.objectField > 0 && ct.ExternalID != "" {
		body.CustomFields = append(body.CustomFields, customField{ID: c.objectField, Value: ct.ExternalID})
	}
	if c.officeField > 0 && ct.OfficeLocation != "" {
		body.CustomFields = append(body.CustomFields, customField{ID: c.officeField, Value: ct.OfficeLocation})
	}
	var w wireContact
	if _, err := c.do(ctx, request{op: op, method: http.MethodPost, url: c.endpoint("/company/contacts", nil), body: body, out: &w}); err != nil {
		return psa.Contact{}, err
	}
	return c.contact(w), nil
}

// newItem builds a communication item for slot s. It is the default of its
// category unless it is a mobile number or another item of that category
// in existing already is.
func (c *Client) newItem(ctx context.Context, s slot, value string, existing []commItem) (commItem, error) {
	typeID, err := c.resolve(ctx, c.commTypes, s.typeName())
	if err != nil {
		return commItem{}, err
	}
	def := s != slotMobile
	for _, it := range existing {
		if it.DefaultFlag && strings.EqualFold(categoryOf(it), s.category()) {
			def = false
		}
	}
	return commItem{Type: ref{ID: typeID}, Value: strings.TrimSpace(value), DefaultFlag: def, CommunicationType: s.category()}, nil
}

// categoryOf is an item's communicationType, falling back to its type.
func categoryOf(it commItem) string {
	if it.CommunicationType != "" {
		return it.CommunicationType
	}
	if it.isEmail() {
		return "Email"
	}
	return "Phone"
}
