// Package halopsa is psasync's HaloPSA client: it keeps Halo users (the end
// users of a Halo client, i.e. a customer) in step with Microsoft 365 users.
//
// Wire format, from Halo's API documentation:
//   - OAuth2 client credentials: POST {auth}/token (form: grant_type,
//     client_id, client_secret, scope; ?tenant= for hosted instances). The
//     authorisation server is found with GET {instance}/api/authinfo
//     (auth_url, tenant_id), else assumed at {instance}/auth. Tokens are
//     cached and refreshed shortly before they expire, and once after a 401.
//   - Users of a client: GET /api/Users?client_id=&includeinactive=true&
//     pageinate=true&page_size=&page_no=, paged by the envelope's
//     record_count. One user: GET /api/Users/{id}. A lookup by Microsoft
//     365 object id reads those pages and compares azureoid in the client:
//     the API documents no azureoid filter.
//   - Create and update: POST /api/Users with a JSON array; an item with an
//     id updates that user and carries only the changed fields.
//
// Field mapping (psa canonical field → Halo user field): first_name →
// firstname, last_name → surname (name is kept as "first last"), email →
// emailaddress, phone → phonenumber, mobile_phone → mobilenumber, job_title →
// title, department → department, inactive → inactive, the Microsoft 365
// object id → azureoid. Halo users have no office location or contact type:
// those go to user custom fields named in Config, or are not synced.
//
// Errors are *psa.Error values: 401/403 → psa.ErrPermission, 404 →
// psa.ErrNotFound, 429 → psa.ErrRateLimited, 5xx and transport failures →
// psa.ErrConnection, 400 → psa.ErrInvalid with Halo's message, or
// psa.ErrDuplicate when that message says the user already exists (Halo has
// no duplicate-specific status; whether it refuses a second user with the
// same email depends on the instance, so FindContactsByEmail stays the guard).
//
// The client never sleeps or retries (apart from one token refresh after a
// 401): a 429 comes back as a *psa.Error of class psa.ErrRateLimited whose
// RetryAfter is Halo's Retry-After, or DefaultRetryAfter when Halo sends none.
package halopsa

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/psasync/psasync/psa"
)

var (
	_ psa.Client           = (*Client)(nil)
	_ psa.CompanyDirectory = (*Client)(nil)
)

// Client talks to one Halo instance. It is safe for concurrent use.
type Client struct {
	cfg  Config
	send psa.Sender
	now  func() time.Time
	auth *tokenSource
	// maxPages guards listings; a field so tests can lower it.
	maxPages int
}

// New checks cfg and builds a client; it makes no request until first use.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:  cfg.withDefaults(),
		send: psa.NewSender("halopsa", 30*time.Second),
		now:  time.Now,

		maxPages: maxPages,
	}
	for _, o := range opts {
		o(c)
	}
	c.auth = newTokenSource(c)
	return c, nil
}

// SupportedFields lists the canonical fields (and the Microsoft 365 link)
// this configuration reads and writes. UpdateContact skips any other field,
// so callers that diff contacts should leave the rest out, or every run would
// see them as changed.
func (c *Client) SupportedFields() []psa.Field {
	fields := []psa.Field{
		psa.FieldFirstName, psa.FieldLastName, psa.FieldEmail, psa.FieldPhone,
		psa.FieldMobilePhone, psa.FieldJobTitle, psa.FieldDepartment,
	}
	if c.cfg.OfficeLocationField != "" {
		fields = append(fields, psa.FieldOfficeLocation)
	}
	if c.cfg.ContactTypeField != "" {
		fields = append(fields, psa.FieldContactType)
	}
	return append(fields, psa.FieldInactive, psa.FieldExternalID)
}

// do sends one API request to {instance}/api{path} with the bearer token
// and decodes a 2xx JSON answer into out (when out is not nil). Every API
// call goes through it, and every HTTP exchange (token and authinfo
// included) through exchange below it; Halo's answers become the psa error
// classes in statusError. A 401 with a cached token gets one new token and
// one more try, the client's only retry.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "cannot encode request", Err: err}
		}
	}
	target := c.cfg.InstanceURL + "/api" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		token, fresh, err := c.auth.get(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		h := http.Header{"Authorization": {"Bearer " + token}}
		if payload != nil {
			h.Set("Content-Type", "application/json")
		}
		ans, err := c.exchange(ctx, op, psa.Request{Method: method, URL: target, Header: h, Body: payload})
		if err != nil {
			return err
		}
		if ans.Status == http.StatusUnauthorized && attempt == 0 && !fresh {
			// The cached token was revoked or expired early: get a new one
			// and try once more. This is the client's only retry.
			c.auth.invalidate(token)
			continue
		}
		if ans.Status < 200 || ans.Status > 299 {
			return c.statusError(op, ans)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(ans.Body, out); err != nil {
			return &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: ans.Status, Message: "cannot read Halo's answer", Err: err}
		}
		return nil
	}
}

// exchange is the one place the client talks HTTP: it asks for JSON and
// sends r (psa.Sender bounds and logs the answer; no query, header or body
// is logged).
func (c *Client) exchange(ctx context.Context, op string, r psa.Request) (psa.Answer, error) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Accept", "application/json")
	return c.send.Send(ctx, op, r)
}
