// Package connectwise is psasync's ConnectWise Manage (ConnectWise PSA)
// client: it implements psa.Client over Manage's REST API.
//
// Wire choices, each taken from the vendor's documentation:
//
//   - Authentication is Basic "companyId+publicKey:privateKey" with the
//     integration's clientId header, and every request pins the API version
//     with "Accept: application/vnd.connectwise.com+json; version=2025.1".
//   - Lists use conditions (company/id=N) and forward-only paging at
//     pageSize 1000: the "pagination-type: forward-only" request header and
//     the Link header's rel="next" URL (pageId=<last id>), so a company's
//     contacts cost ⌈contacts/1000⌉ reads.
//   - Email lookups use childConditions on communicationItems; object-id
//     lookups use customFieldConditions (caption="..." AND value="...") on
//     the configured custom field.
//   - Creates send communicationItems (email, direct phone, mobile), types
//     and customFields; updates send a JSON Patch of only the changed paths.
//   - Errors are Manage's JSON (code, message, errors[]) turned into
//     *psa.Error; "ObjectExists" is a duplicate. The client never sleeps or
//     retries: a 429 comes back with its Retry-After.
package connectwise

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/psasync/psasync/psa"
)

var (
	_ psa.Client           = (*Client)(nil)
	_ psa.CompanyDirectory = (*Client)(nil)
)

// Client talks to one ConnectWise Manage site. It is safe for concurrent
// use; it caches contact types, departments and communication types.
type Client struct {
	base     *url.URL
	cred     *credentials
	accept   string
	pageSize int
	maxPages int

	objectField, officeField int
	// tenantField is the company custom field holding the tenant id; 0
	// for none.
	tenantField int
	// caption is the object-id custom field's caption, learnt from the
	// contacts read (customFieldConditions name fields by caption). A
	// pointer, so that a Client value can be copied for printing.
	caption *atomic.Pointer[string]

	send psa.Sender

	types, departments, commTypes *refTable
}

// credentials hold the request headers that carry secrets. The Client keeps
// them behind a pointer so that printing a Client shows an address, never
// the keys.
type credentials struct {
	authorization, clientID string
}

// New builds a client for cfg after validating it.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	base, err := cfg.apiBase()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base: base,
		cred: &credentials{
			authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.CompanyID+"+"+cfg.PublicKey+":"+cfg.PrivateKey)),
			clientID:      cfg.ClientID,
		},
		accept:      "application/vnd.connectwise.com+json; version=" + cfg.APIVersion,
		pageSize:    cfg.PageSize,
		maxPages:    DefaultMaxPages,
		objectField: cfg.ObjectIDFieldID,
		officeField: cfg.OfficeLocationFieldID,
		tenantField: cfg.TenantIDFieldID,
		caption:     &atomic.Pointer[string]{},
		send:        psa.NewSender("connectwise", 60*time.Second),
		types:       &refTable{path: "/company/contacts/types", what: "contact type"},
		departments: &refTable{path: "/company/contacts/departments", what: "department"},
		commTypes:   &refTable{path: "/company/communicationTypes", what: "communication type"},
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Ping reads /system/info: it proves the site is reachable and the
// credentials are accepted, without touching any contact.
func (c *Client) Ping(ctx context.Context) error {
	var info struct {
		Version string `json:"version"`
	}
	_, err := c.do(ctx, request{op: "connectwise: ping", method: http.MethodGet, url: c.endpoint("/system/info", nil), out: &info})
	return err
}

// endpoint is the absolute URL of an API path with a query.
func (c *Client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return &u
}

// request is one API call for do.
type request struct {
	op     string
	method string
	url    *url.URL
	body   any
	out    any
	// paged asks for forward-only paging (list endpoints).
	paged bool
}

// do is the client's one request path: every call to the site goes
// through it. It encodes the body, sets the credentials, the versioned
// Accept and the paging headers, sends (psa.Sender bounds the answer),
// turns a non-2xx answer into the psa error classes (answerError) and
// decodes the JSON. It returns the answer's headers for the pager.
func (c *Client) do(ctx context.Context, r request) (http.Header, error) {
	h := http.Header{}
	h.Set("Authorization", c.cred.authorization)
	h.Set("clientId", c.cred.clientID)
	h.Set("Accept", c.accept)
	if r.paged {
		h.Set("pagination-type", "forward-only")
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, &psa.Error{Op: r.op, Kind: psa.ErrInvalid, Err: fmt.Errorf("encode request: %w", err)}
		}
		h.Set("Content-Type", "application/json")
	}
	ans, err := c.send.Send(ctx, r.op, psa.Request{Method: r.method, URL: r.url.String(), Header: h, Body: body})
	if err != nil {
		return nil, err
	}
	if ans.Status >= 300 {
		return nil, answerError(r.op, ans.Status, ans.Header, ans.Body, time.Now())
	}
	if r.out != nil {
		if err := json.Unmarshal(ans.Body, r.out); err != nil {
			return nil, &psa.Error{Op: r.op, Kind: psa.ErrInvalid, StatusCode: ans.Status,
				Err: fmt.Errorf("answer is not the expected ConnectWise JSON (Content-Type %q, %s): %w", ans.Header.Get("Content-Type"), preview(ans.Body), err)}
		}
	}
	return ans.Header, nil
}

// parseID reads a ConnectWise record id (a positive 32-bit integer).
func parseID(op, what, s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n <= 0 {
		return 0, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: fmt.Errorf("%s %q is not a ConnectWise id (a positive whole number)", what, s)}
	}
	return int(n), nil
}
