// Package autotask is psasync's Autotask PSA client: it implements psa.Client
// over the Autotask REST API v1.0, plus the company and threshold calls the
// set-up and quota reporting need.
//
// Wire facts it relies on: the API user's zone comes from
// GET {ZoneURL}/v1.0/zoneInformation?user=... and every other call goes to
// {zone url}V1.0/...; credentials travel in the ApiIntegrationCode, UserName
// and Secret headers; queries are POST .../query with a filter, MaxRecords
// (at most 500) and IncludeFields, and further pages are read by POSTing the
// same body to pageDetails.nextPageUrl; contacts are created and updated
// through the company child URL Companies/{companyID}/Contacts, which answers
// {"itemId":N}; errors come as {"errors":[...]}, sometimes inside an HTTP
// 200.
//
// Field mapping between psa.Contact and an Autotask contact:
//
//	first_name       firstName
//	last_name        lastName
//	email            emailAddress (FindContactsByEmail also matches
//	                 emailAddress2 and emailAddress3)
//	phone            phone
//	mobile_phone     mobilePhone
//	job_title        title
//	inactive         isActive, an integer: 1 active, 0 inactive
//	m365_object_id   externalID, or the UDF named by Config.ExternalIDField
//	                 (FindContactsByExternalID filters on it: an "eq" item on
//	                 externalID, or with "udf": true on the UDF)
//	department       the UDF Config.DepartmentUDF; not synced when empty
//	office_location  the UDF Config.OfficeLocationUDF; not synced when empty
//	contact_type     the UDF Config.ContactTypeUDF (text, written as given);
//	                 not synced when empty
//
// Autotask contacts have no native department, office location or contact
// type field, so those exist only as contact UDFs the MSP defines (Admin >
// User-Defined Fields); Client.SupportedFields says which fields a
// configuration syncs.
//
// The client never sleeps or retries: a thread-limit or threshold refusal
// comes back as a *psa.Error of kind psa.ErrRateLimited with RetryAfter set,
// and the caller decides when to try again. It makes exactly one request per
// call or page (plus a zone lookup per DefaultZoneCache), so a company of N
// contacts costs ⌈N/500⌉ reads and a change one write.
package autotask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

var (
	_ psa.Client           = (*Client)(nil)
	_ psa.CompanyDirectory = (*Client)(nil)
)

// Client talks to one Autotask database as one API user. It is safe for
// concurrent use; Autotask allows 3 concurrent requests per endpoint and
// integration code, which callers must respect (the client does not queue).
type Client struct {
	cfg     Config
	send    psa.Sender
	zoneTTL time.Duration
	now     func() time.Time

	zoneLock chan struct{} // a ctx-aware mutex around the zone cache
	zoneBase *url.URL
	zoneAt   time.Time
}

// New checks cfg (see Config.Validate), fills its defaults and returns a
// client. It makes no request: the zone is looked up on first use.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("autotask: new client: %w", err)
	}
	c := &Client{
		cfg:      cfg.WithDefaults(),
		send:     psa.NewSender("autotask", 60*time.Second),
		zoneTTL:  DefaultZoneCache,
		now:      time.Now,
		zoneLock: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(c)
	}
	c.send.HTTP = sameHostRedirects(c.send.HTTP)
	return c, nil
}

// sameHostRedirects returns a copy of hc that does not follow a redirect to
// another host: net/http would forward the Secret header there (it strips
// only Authorization and Cookie). Such an answer comes back as the redirect
// itself, which the client reports as psa.ErrInvalid.
func sameHostRedirects(hc *http.Client) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// zoneInfo is the zoneInformation answer.
type zoneInfo struct {
	ZoneName string `json:"zoneName"`
	URL      string `json:"url"`
	WebURL   string `json:"webUrl"`
	CI       int    `json:"ci"`
}

// base returns the API root of the user's zone, looking it up when the cache
// is empty or stale.
func (c *Client) base(ctx context.Context) (*url.URL, error) {
	select {
	case c.zoneLock <- struct{}{}:
	case <-ctx.Done():
		return nil, &psa.Error{Op: "autotask: zone lookup", Kind: psa.ErrConnection, Err: ctx.Err()}
	}
	defer func() { <-c.zoneLock }()
	if c.zoneBase != nil && c.zoneTTL > 0 && c.now().Sub(c.zoneAt) < c.zoneTTL {
		return c.zoneBase, nil
	}
	const op = "autotask: zone lookup"
	u := strings.TrimRight(c.cfg.ZoneURL, "/") + "/v1.0/zoneInformation?user=" + url.QueryEscape(c.cfg.Username)
	var zi zoneInfo
	if err := c.do(ctx, op, http.MethodGet, u, nil, &zi); err != nil {
		var pe *psa.Error
		if asPSAError(err, &pe) && pe.Kind == psa.ErrInvalid && pe.StatusCode >= 400 {
			// The only input is the user name: an error answer means
			// Autotask does not know the API user.
			pe.Kind = psa.ErrPermission
		}
		return nil, err
	}
	zu, err := url.Parse(zi.URL)
	if err != nil || (zu.Scheme != "https" && zu.Scheme != "http") || zu.Host == "" {
		return nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: http.StatusOK,
			Message: fmt.Sprintf("zoneInformation answered an unusable url %q", zi.URL)}
	}
	if !strings.HasSuffix(zu.Path, "/") {
		zu.Path += "/"
	}
	c.zoneBase, c.zoneAt = zu, c.now()
	c.send.Log.WithFields(logrus.Fields{"zone": zi.ZoneName, "url": zu.String()}).Debug("autotask zone")
	return zu, nil
}

// endpoint returns the absolute URL of an API path such as
// "V1.0/Contacts/query".
func (c *Client) endpoint(ctx context.Context, path string) (string, error) {
	b, err := c.base(ctx)
	if err != nil {
		return "", err
	}
	return b.JoinPath(path).String(), nil
}

// sameOrigin reports whether next (a nextPageUrl) points at the zone the
// credentials belong to; the client never sends them anywhere else.
func (c *Client) sameOrigin(ctx context.Context, next string) (string, error) {
	b, err := c.base(ctx)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(next)
	if err != nil {
		return "", err
	}
	u = b.ResolveReference(u)
	if !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Host, b.Host) {
		return "", fmt.Errorf("nextPageUrl %s://%s is not the zone's host", u.Scheme, u.Host)
	}
	return u.String(), nil
}

// do is the client's one request path: every call to Autotask, the zone
// lookup included, goes through it. It encodes the body, sets the
// credential headers, sends (psa.Sender bounds the answer), turns the
// answer into the psa error classes (classify: Autotask reports some
// failures inside an HTTP 200) and decodes a success into out.
func (c *Client) do(ctx context.Context, op, method, rawURL string, body, out any) error {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("ApiIntegrationCode", c.cfg.IntegrationCode)
	h.Set("UserName", c.cfg.Username)
	h.Set("Secret", c.cfg.Secret)
	if c.cfg.ImpersonationResourceID != "" {
		h.Set("ImpersonationResourceId", c.cfg.ImpersonationResourceID)
	}
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: fmt.Errorf("encode request: %w", err)}
		}
		h.Set("Content-Type", "application/json")
	}
	ans, err := c.send.Send(ctx, op, psa.Request{Method: method, URL: rawURL, Header: h, Body: data})
	if err != nil {
		return err
	}
	if perr := classify(op, ans, c.now()); perr != nil {
		return perr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(ans.Body, out); err != nil {
		return &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: ans.Status, Err: fmt.Errorf("decode answer: %w", err)}
	}
	return nil
}
