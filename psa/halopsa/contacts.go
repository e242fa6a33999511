package halopsa

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
	return c.findUsers(ctx, "halopsa: find contacts by email", companyID, "email", email, true,
		func(u haloUser) string { return u.EmailAddress })
}

// FindContactsByExternalID returns the client's users whose azureoid (the
// Microsoft 365 object id psasync stores) equals objectID, ignoring case.
// Halo's API documents no filter on azureoid (GET /Users has search, a
// "like" match on name and email, and no azureoid or custom-field
// parameter), so the lookup reads the client's users, active and inactive,
// page by page, and compares azureoid here: ⌈users/page_size⌉ reads, paid
// only when psasync has no link for the user.
func (c *Client) FindContactsByExternalID(ctx context.Context, companyID, objectID string) ([]psa.Contact, error) {
	return c.findUsers(ctx, "halopsa: find contacts by object id", companyID, "object id", objectID, false,
		func(u haloUser) string { return u.AzureOID })
}

// findUsers returns the users of client companyID, active and inactive,
// whose field equals value, ignoring case; search narrows the read with
// Halo's "like" search on name and email (useful for an email only).
func (c *Client) findUsers(ctx context.Context, op, companyID, what, value string, search bool, field func(haloUser) string) ([]psa.Contact, error) {
	clientID, value, err := psa.FindArgs(op, companyID, what, value, parseID)
	if err != nil {
		return nil, err
	}
	q := url.Values{"client_id": {strconv.Itoa(clientID)}, "includeinactive": {"true"}}
	if search {
		q.Set("search", value)
	}
	var out []psa.Contact
	for users, err := range c.userPages(ctx, op+" in client "+companyID, q) {
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if !strings.EqualFold(strings.TrimSpace(field(u)), value) {
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
	if _, err := psa.FieldSet(op, fields); err != nil {
		return psa.Contact{}, err
	}
	synced := map[psa.Field]bool{}
	for _, f := range c.SupportedFields() {
		synced[f] = true
	}
	item := map[string]any{"id": userID}
	for _, f := range fields {
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

// maxPages stops a listing that never ends (a server ignoring page_no would
// otherwise loop a worker forever); at the default page size it is a million
// users in one client.
const maxPages = 10000

// userPages yields the users of GET /api/Users page by page. It reads exactly
// ⌈record_count/page_size⌉ pages (one for an empty result); without a
// record_count it stops at the first short page.
func (c *Client) userPages(ctx context.Context, op string, query url.Values) iter.Seq2[[]haloUser, error] {
	return pages(ctx, c, op, "/Users", query, func(p userPage) ([]haloUser, *int) { return p.Users, p.RecordCount })
}

// pages reads a Halo list endpoint page by page (pageinate=true, page_size,
// page_no beside query), yielding each page's records as items finds them
// in the envelope P. It stops after an empty page, once record_count
// records were read, or, when Halo leaves record_count out, after a short
// page; more than maxPages pages is an error rather than a loop.
func pages[T, P any](ctx context.Context, c *Client, op, path string, query url.Values, items func(P) ([]T, *int)) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		size := c.cfg.PageSize
		seen := 0
		for pageNo := 1; ; pageNo++ {
			if pageNo > c.maxPages {
				yield(nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: fmt.Sprintf("more than %d pages; stopping", c.maxPages)})
				return
			}
			q := maps.Clone(query)
			if q == nil {
				q = url.Values{}
			}
			q.Set("pageinate", "true")
			q.Set("page_size", strconv.Itoa(size))
			q.Set("page_no", strconv.Itoa(pageNo))
			var p P
			if err := c.do(ctx, op, http.MethodGet, path, q, nil, &p); err != nil {
				yield(nil, err)
				return
			}
			got, total := items(p)
			seen += len(got)
			if !yield(got, nil) || len(got) == 0 {
				return
			}
			if total != nil {
				if seen >= *total {
					return
				}
			} else if len(got) < size {
				return
			}
		}
	}
}
