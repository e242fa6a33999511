package connectwise_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	id := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", Email: "ann@contoso.com"})
	_, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	require.NoError(t, err)
	require.NoError(t, b.client.Ping(context.Background()))

	recs := b.sim.Requests()
	require.Len(t, recs, 2)
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cwsim.DefaultCompanyID+"+"+cwsim.DefaultPublicKey+":"+cwsim.DefaultPrivateKey))
	for _, r := range recs {
		require.Equal(t, wantAuth, r.Header.Get("Authorization"))
		require.Equal(t, cwsim.DefaultClientID, r.Header.Get("clientId"))
		require.Equal(t, "application/vnd.connectwise.com+json; version=2025.1", r.Header.Get("Accept"))
		require.Equal(t, "application/vnd.connectwise.com+json; version=2025.1", r.ResponseHeader.Get("Content-Type"))
	}
	require.Equal(t, cwsim.APIPath+"/company/contacts/"+strconv.Itoa(id), recs[0].Path)
	require.Equal(t, cwsim.APIPath+"/system/info", recs[1].Path)
}

// TestAPIVersionIsPinned uses a bare server: the vendored OpenAPI document
// describes version 2025.1 only, so answers in another version are outside
// what the contract checks can judge.
func TestAPIVersionIsPinned(t *testing.T) {
	t.Parallel()
	accepts := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepts <- r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/vnd.connectwise.com+json; version=2024.3")
		_, _ = w.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.SiteURL, cfg.APIVersion = srv.URL, "2024.3"
	c, err := connectwise.New(cfg)
	require.NoError(t, err)
	got, err := collectContacts(c.ListContacts(context.Background(), "1"))
	require.NoError(t, err)
	require.Empty(t, got)
	require.Equal(t, "application/vnd.connectwise.com+json; version=2024.3", <-accepts)
}

func TestSiteURLMayBeTheAPIBase(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.SiteURL += cwsim.APIPath + "/" })
	require.NoError(t, b.client.Ping(context.Background()))
	require.Equal(t, cwsim.APIPath+"/system/info", b.sim.Requests()[0].Path)
}

func TestWrongCredentialsArePermissionErrors(t *testing.T) {
	t.Parallel()
	const wrongKey = "WrongPrivateKey777"
	tests := []struct {
		name string
		edit func(*connectwise.Config)
	}{
		{"private key", func(c *connectwise.Config) { c.PrivateKey = wrongKey }},
		{"public key", func(c *connectwise.Config) { c.PublicKey = "nobody" }},
		{"company", func(c *connectwise.Config) { c.CompanyID = "othermsp" }},
		{"client id", func(c *connectwise.Config) { c.ClientID = "not-registered" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.edit)
			_, err := b.client.GetContact(context.Background(), "1")
			require.ErrorIs(t, err, psa.ErrPermission)
			var pe *psa.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, http.StatusUnauthorized, pe.StatusCode)
			require.Equal(t, "Unauthorized", pe.VendorCode)
			require.NotContains(t, err.Error(), wrongKey)
			require.NotContains(t, err.Error(), cwsim.DefaultPrivateKey)
		})
	}
}

// TestErrorClasses drives every error class through the simulator's fault
// injection and checks that the client answers after exactly one request:
// no retry, no sleep.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       cwsim.Fault
		kind        error
		status      int
		vendorCode  string
		retryAfter  time.Duration
		errContains string
	}{
		{name: "429 with fractional Retry-After", fault: cwsim.Fault{Status: 429, RetryAfter: "2.5"},
			kind: psa.ErrRateLimited, status: 429, vendorCode: "TooManyRequests", retryAfter: 2500 * time.Millisecond},
		{name: "429 asking for a long wait", fault: cwsim.Fault{Status: 429, RetryAfter: "30"},
			kind: psa.ErrRateLimited, status: 429, retryAfter: 30 * time.Second},
		{name: "429 without Retry-After", fault: cwsim.Fault{Status: 429}, kind: psa.ErrRateLimited, status: 429},
		{name: "403", fault: cwsim.Fault{Status: 403}, kind: psa.ErrPermission, status: 403, vendorCode: "Forbidden"},
		{name: "401", fault: cwsim.Fault{Status: 401}, kind: psa.ErrPermission, status: 401},
		{name: "404", fault: cwsim.Fault{Status: 404}, kind: psa.ErrNotFound, status: 404, vendorCode: "NotFound"},
		{name: "500", fault: cwsim.Fault{Status: 500}, kind: psa.ErrConnection, status: 500, vendorCode: "InternalServerError"},
		{name: "503 with Retry-After", fault: cwsim.Fault{Status: 503, RetryAfter: "7"},
			kind: psa.ErrConnection, status: 503, retryAfter: 7 * time.Second},
		{name: "400 validation error", kind: psa.ErrInvalid, status: 400, vendorCode: "InvalidObject",
			fault:       cwsim.Fault{Status: 400, Body: `{"code":"InvalidObject","message":"contact object is invalid","errors":[{"code":"InvalidField","message":"title is too long","resource":"contact","field":"title"}]}`},
			errContains: "contact object is invalid: title is too long (field title)"},
		{name: "400 ObjectExists is a duplicate", kind: psa.ErrDuplicate, status: 400, vendorCode: "ObjectExists",
			fault: cwsim.Fault{Status: 400, Body: `{"code":"InvalidObject","message":"contact object is invalid","errors":[{"code":"ObjectExists","message":"already exists","resource":"contact","field":"communicationItems"}]}`}},
		{name: "502 HTML from a proxy", kind: psa.ErrConnection, status: 502,
			fault:       cwsim.Fault{Status: 502, Body: "<html><body>Bad Gateway</body></html>"},
			errContains: "not ConnectWise error JSON"},
		{name: "400 garbage", kind: psa.ErrInvalid, status: 400,
			fault: cwsim.Fault{Status: 400, Body: "\x00\x01garbage"}, errContains: "not ConnectWise error JSON"},
		{name: "200 garbage", kind: psa.ErrInvalid, status: 200,
			fault: cwsim.Fault{Status: 200, Body: "<html>maintenance</html>"}, errContains: "not the expected ConnectWise JSON"},
		{name: "200 wrong JSON shape", kind: psa.ErrInvalid, status: 200,
			fault: cwsim.Fault{Status: 200, Body: `{"id":"seven"}`}, errContains: "not the expected ConnectWise JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			id := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", Email: "ann@contoso.com"})
			b.sim.InjectFault(tc.fault)
			start := time.Now()
			_, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
			require.Less(t, time.Since(start), time.Second, "the client must not sleep")
			require.ErrorIs(t, err, tc.kind)
			var pe *psa.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.status, pe.StatusCode)
			require.Equal(t, tc.retryAfter, pe.RetryAfter)
			if tc.vendorCode != "" {
				require.Equal(t, tc.vendorCode, pe.VendorCode)
				require.NotEmpty(t, pe.VendorText())
			}
			if tc.errContains != "" {
				require.Contains(t, err.Error(), tc.errContains)
			}
			require.Contains(t, err.Error(), "connectwise: get contact")
			require.NotContains(t, err.Error(), cwsim.DefaultPrivateKey)
			require.Len(t, b.sim.Requests(), 1, "the client must not retry")
		})
	}
}

func TestLoggerNeverSeesTheKeys(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	logger := logrus.New()
	logger.Out, logger.Level, logger.Formatter = &logged, logrus.DebugLevel, &logrus.JSONFormatter{}
	b := setup(t, nil, connectwise.WithLogger(logger.WithField("tenant", "acme")))
	ctx := context.Background()
	created, err := b.client.CreateContact(ctx, psa.Contact{CompanyID: strconv.Itoa(companyA), FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com"})
	require.NoError(t, err)
	created.ContactType = "Employee"
	_, err = b.client.UpdateContact(ctx, created, []psa.Field{psa.FieldContactType})
	require.NoError(t, err)
	b.sim.InjectFault(cwsim.Fault{Status: 401})
	require.ErrorIs(t, b.client.Ping(ctx), psa.ErrPermission)

	out := logged.String()
	require.NotContains(t, out, cwsim.DefaultPrivateKey)
	require.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte(cwsim.DefaultCompanyID+"+"+cwsim.DefaultPublicKey+":"+cwsim.DefaultPrivateKey)))
	require.NotContains(t, out, "ann@contoso.com", "bodies are not logged")

	var requests, skipped []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "every line is JSON")
		require.Equal(t, "debug", l["level"])
		require.Equal(t, "acme", l["tenant"], "the caller's fields are kept")
		switch l["msg"] {
		case "connectwise request":
			requests = append(requests, l)
		case "connectwise: contact type is set only at creation; not patched":
			skipped = append(skipped, l)
		}
	}
	require.NotEmpty(t, requests)
	last := requests[len(requests)-1]
	require.Equal(t, "connectwise: ping", last["op"])
	require.Equal(t, http.MethodGet, last["method"])
	require.Equal(t, cwsim.APIPath+"/system/info", last["path"])
	require.EqualValues(t, http.StatusUnauthorized, last["status"])
	require.Contains(t, last, "bytes")
	require.Contains(t, last, "duration")
	require.Len(t, skipped, 1)
	require.Equal(t, created.ID, fmt.Sprint(skipped[0]["contact"]))
}

func TestUnreachableSiteIsAConnectionError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg := validConfig()
	cfg.SiteURL = url
	c, err := connectwise.New(cfg)
	require.NoError(t, err)
	_, err = c.GetContact(context.Background(), "1")
	require.ErrorIs(t, err, psa.ErrConnection)
	require.NotContains(t, err.Error(), secretKey)
	_, err = collectContacts(c.ListContacts(context.Background(), "1"))
	require.ErrorIs(t, err, psa.ErrConnection)
}

func TestContextDeadlineStopsASlowSite(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.InjectFault(cwsim.Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := b.client.Ping(ctx)
	require.Less(t, time.Since(start), 5*time.Second)
	require.ErrorIs(t, err, psa.ErrConnection)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
}

func TestInvalidIDsNeverReachTheSite(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	_, err := b.client.GetContact(ctx, "abc")
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.GetContact(ctx, "0")
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.FindContactsByEmail(ctx, "x", "a@b.c")
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.FindContactsByEmail(ctx, "1", " ")
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.CreateContact(ctx, psa.Contact{CompanyID: "", FirstName: "A"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.UpdateContact(ctx, psa.Contact{ID: "-4"}, []psa.Field{psa.FieldFirstName})
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = collectContacts(b.client.ListContacts(ctx, "99999999999"))
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Empty(t, b.sim.Requests())
}

// collectContacts drains a contact iterator.
func collectContacts(seq func(func(psa.Contact, error) bool)) ([]psa.Contact, error) {
	var out []psa.Contact
	for c, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}
