package connectwise

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// FindContactsByExternalID returns the company's contacts whose object-id
// custom field (Config.ObjectIDFieldID) holds objectID, ignoring case:
//
//	GET /company/contacts?conditions=company/id=N
//	    &customFieldConditions=caption="<caption>" AND value="<objectID>"
//	    &pageSize=<page size>
//
// Manage's customFieldConditions name a custom field by its caption, not
// its id, so the client learns the caption of the configured field from the
// customFields Manage lists on every contact it reads (each contact carries
// every contact custom field, set or not). When it has read none yet, one
// read of a single contact of the company teaches it; a company with no
// contact has none to find. A site whose contacts do not list the
// configured field is psa.ErrInvalid naming the field: a lookup that could
// not look would let the engine create a duplicate.
//
// With no object-id field configured (ObjectIDFieldID 0) no contact carries
// an object id, so the answer is no contact and no error; the email lookup
// stays the engine's guard.
func (c *Client) FindContactsByExternalID(ctx context.Context, companyID, objectID string) ([]psa.Contact, error) {
	op := "connectwise: find contacts by object id in company " + companyID
	company, objectID, err := psa.FindArgs(op, companyID, "object id", objectID, parseID)
	if err != nil {
		return nil, err
	}
	if c.objectField == 0 {
		return nil, nil
	}
	caption, ok, err := c.objectCaption(ctx, op, company)
	if err != nil || !ok {
		return nil, err
	}
	u := c.companyContacts(company, c.pageSize, url.Values{
		"customFieldConditions": {fmt.Sprintf("caption=%s AND value=%s", quote(caption), quote(objectID))},
	})
	var out []psa.Contact
	for w, err := range listAll[wireContact](ctx, c, op, u) {
		if err != nil {
			return nil, err
		}
		ct := c.contact(w)
		if ct.CompanyID == strconv.Itoa(company) && strings.EqualFold(strings.TrimSpace(ct.ExternalID), objectID) {
			out = append(out, ct)
		}
	}
	return out, nil
}

// objectCaption is the caption of the object-id custom field. ok is false
// when the company has no contact to learn it from (and so none to find).
func (c *Client) objectCaption(ctx context.Context, op string, company int) (string, bool, error) {
	if p := c.caption.Load(); p != nil {
		return *p, true, nil
	}
	var ws []wireContact
	u := c.companyContacts(company, 1, nil)
	if _, err := c.do(ctx, request{op: op, method: http.MethodGet, url: u, out: &ws}); err != nil {
		return "", false, err
	}
	if len(ws) == 0 {
		return "", false, nil
	}
	c.learnCaption(ws[0].CustomFields)
	if p := c.caption.Load(); p != nil {
		return *p, true, nil
	}
	return "", false, &psa.Error{Op: op, Kind: psa.ErrInvalid,
		Err: fmt.Errorf("object_id_field_id %d is not a contact custom field of this site (its contacts list no custom field with that id)", c.objectField)}
}

// learnCaption keeps the caption of the object-id custom field when fields
// (a contact as Manage answered it) list it.
func (c *Client) learnCaption(fields []customField) {
	if c.objectField == 0 || c.caption.Load() != nil {
		return
	}
	for _, f := range fields {
		if f.ID == c.objectField && strings.TrimSpace(f.Caption) != "" {
			caption := f.Caption
			c.caption.Store(&caption)
			return
		}
	}
}
