package autotask_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
)

// testBundle is one simulator and a client configured against it.
type testBundle struct {
	sim    *atsim.Sim
	client *autotask.Client
	cfg    autotask.Config
}

// setup starts a simulator with companies 1 and 2 and builds a client;
// mod adjusts the client config.
func setup(t *testing.T, simOpts []atsim.Option, mod func(*autotask.Config), opts ...autotask.Option) testBundle {
	t.Helper()
	sim := atsim.NewServer(t, simOpts...)
	sim.AddCompany(1, "Acme")
	sim.AddCompany(2, "Globex")
	cfg := simConfig(sim)
	if mod != nil {
		mod(&cfg)
	}
	client, err := autotask.New(cfg, opts...)
	require.NoError(t, err)
	return testBundle{sim: sim, client: client, cfg: cfg}
}

// simConfig is a client config for sim's zone and default credentials.
func simConfig(sim *atsim.Sim) autotask.Config {
	return autotask.Config{
		ZoneURL:         sim.BaseURL(),
		Username:        atsim.DefaultUsername,
		Secret:          atsim.DefaultSecret,
		IntegrationCode: atsim.DefaultIntegrationCode,
	}
}

// withUDFs maps department, office location and contact type to the
// simulator's default UDFs.
func withUDFs(cfg *autotask.Config) {
	cfg.DepartmentUDF = atsim.DefaultDepartmentUDF
	cfg.OfficeLocationUDF = atsim.DefaultOfficeLocationUDF
	cfg.ContactTypeUDF = atsim.DefaultContactTypeUDF
}

func collect(t *testing.T, seq func(func(psa.Contact, error) bool)) []psa.Contact {
	t.Helper()
	var out []psa.Contact
	for c, err := range seq {
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

// lastBody returns the JSON body of the most recent recorded request with
// the given method.
func lastBody(t *testing.T, sim *atsim.Sim, method string) map[string]any {
	t.Helper()
	recs := sim.Requests()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Method == method {
			var m map[string]any
			require.NoError(t, json.Unmarshal(recs[i].Body, &m))
			return m
		}
	}
	t.Fatalf("no %s request recorded", method)
	return nil
}

func TestPSAClientRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, withUDFs)

	created, err := b.client.CreateContact(ctx, psa.Contact{
		CompanyID: "1", ExternalID: "oid-ann", FirstName: "Ann", LastName: "Lee",
		Email: "Ann.Lee@acme.test", Phone: "+1 555 0100", MobilePhone: "+1 555 0101",
		JobTitle: "CFO", Department: "Finance", OfficeLocation: "HQ", ContactType: "Billing",
	})
	require.NoError(t, err)
	require.NotEmpty(t, created.ID)
	var id int
	_, _ = fmt.Sscan(created.ID, &id)
	stored, ok := b.sim.Contact(id)
	require.True(t, ok)
	require.Equal(t, atsim.SeedContact{ID: id, CompanyID: 1, FirstName: "Ann", LastName: "Lee",
		Email: "Ann.Lee@acme.test", Phone: "+1 555 0100", MobilePhone: "+1 555 0101", Title: "CFO",
		Department: "Finance", OfficeLocation: "HQ", ContactType: "Billing", ExternalID: "oid-ann"}, stored)
	create := lastBody(t, b.sim, "POST")
	require.Equal(t, 1.0, create["isActive"], "isActive is sent as an integer")

	got, err := b.client.GetContact(ctx, created.ID)
	require.NoError(t, err)
	require.Equal(t, created, got)

	b.sim.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "Old", LastName: "Alias", Email: "old@acme.test", Email3: "ann.lee@ACME.test", Inactive: true})
	b.sim.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "Ann", LastName: "Elsewhere", Email: "ann.lee@acme.test"})
	found, err := b.client.FindContactsByEmail(ctx, "1", "ANN.LEE@acme.test")
	require.NoError(t, err)
	require.Len(t, found, 2)
	require.Equal(t, created.ID, found[0].ID, "the primary-address match comes first")
	require.Equal(t, "old@acme.test", found[1].Email)
	require.True(t, found[1].Inactive)

	none, err := b.client.FindContactsByEmail(ctx, "1", "nobody@acme.test")
	require.NoError(t, err)
	require.Empty(t, none)

	all := collect(t, b.client.ListContacts(ctx, "1"))
	require.Len(t, all, 2, "active and inactive contacts of company 1 only")

	created.JobTitle = "CEO"
	created.Department = "Board"
	updated, err := b.client.UpdateContact(ctx, created, []psa.Field{psa.FieldJobTitle, psa.FieldDepartment})
	require.NoError(t, err)
	require.Equal(t, created, updated)
	stored, _ = b.sim.Contact(id)
	require.Equal(t, "CEO", stored.Title)
	require.Equal(t, "Board", stored.Department)

	created.Inactive = true
	_, err = b.client.UpdateContact(ctx, created, []psa.Field{psa.FieldInactive})
	require.NoError(t, err)
	got, err = b.client.GetContact(ctx, created.ID)
	require.NoError(t, err)
	require.True(t, got.Inactive)

	created.Inactive = false
	_, err = b.client.UpdateContact(ctx, created, []psa.Field{psa.FieldInactive})
	require.NoError(t, err)
	stored, _ = b.sim.Contact(id)
	require.False(t, stored.Inactive)
}

func TestUpdateSendsOnlyTheChangedFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, []atsim.Option{atsim.WithContactUDF("M365 Object ID")}, func(c *autotask.Config) {
		c.DepartmentUDF = atsim.DefaultDepartmentUDF
		c.ExternalIDField = "udf:M365 Object ID"
	})
	id := b.sim.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "Bo", LastName: "Ek", Email: "bo@acme.test", Title: "Dev"})
	ct := psa.Contact{ID: fmt.Sprint(id), CompanyID: "1", FirstName: "Bo", LastName: "Ek", Email: "bo@acme.test",
		JobTitle: "Lead", Department: "R&D", ExternalID: "oid-bo", OfficeLocation: "ignored", Inactive: true}

	tests := []struct {
		name   string
		fields []psa.Field
		want   string
	}{
		{"job title", []psa.Field{psa.FieldJobTitle}, `{"id":%d,"title":"Lead"}`},
		{"deactivate", []psa.Field{psa.FieldInactive}, `{"id":%d,"isActive":0}`},
		{"department goes to its UDF", []psa.Field{psa.FieldDepartment}, `{"id":%d,"userDefinedFields":[{"name":"Department","value":"R&D"}]}`},
		{"external id goes to its UDF", []psa.Field{psa.FieldExternalID}, `{"id":%d,"userDefinedFields":[{"name":"M365 Object ID","value":"oid-bo"}]}`},
		{"unmapped field is skipped", []psa.Field{psa.FieldEmail, psa.FieldOfficeLocation}, `{"id":%d,"emailAddress":"bo@acme.test"}`},
	}
	for _, tc := range tests {
		// Sequential: each case reads the last request the shared
		// simulator recorded.
		_, err := b.client.UpdateContact(ctx, ct, tc.fields)
		require.NoError(t, err, tc.name)
		recs := b.sim.Requests()
		last := recs[len(recs)-1]
		require.Equal(t, "PATCH", last.Method, tc.name)
		require.Equal(t, "/ATServicesRest/V1.0/Companies/1/Contacts", last.Path, tc.name)
		require.JSONEq(t, fmt.Sprintf(tc.want, id), string(last.Body), tc.name)
	}

	before := b.sim.Stats().Requests
	out, err := b.client.UpdateContact(ctx, ct, []psa.Field{psa.FieldOfficeLocation, psa.FieldContactType})
	require.NoError(t, err)
	require.Equal(t, ct, out)
	require.Equal(t, before, b.sim.Stats().Requests, "nothing the configuration can store: no request")

	stored, _ := b.sim.Contact(id)
	require.Equal(t, atsim.SeedContact{ID: id, CompanyID: 1, FirstName: "Bo", LastName: "Ek", Email: "bo@acme.test",
		Title: "Lead", Department: "R&D", Inactive: true, UDFs: map[string]string{"M365 Object ID": "oid-bo"}}, stored)
	got, err := b.client.GetContact(ctx, ct.ID)
	require.NoError(t, err)
	require.Equal(t, "oid-bo", got.ExternalID, "the object id is read back from its UDF")
	require.Empty(t, got.OfficeLocation, "not configured, not read")
}

func TestFullReconcileOf10000ContactsCosts20Reads(t *testing.T) {
	t.Parallel()
	b := setup(t, []atsim.Option{atsim.WithHourlyLimit(0)}, nil)
	for i := range 10000 {
		b.sim.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "U", LastName: fmt.Sprint(i), Email: fmt.Sprintf("u%05d@acme.test", i)})
	}
	b.sim.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "Not", LastName: "Mine"})

	seen := make(map[string]bool)
	for c, err := range b.client.ListContacts(context.Background(), "1") {
		require.NoError(t, err)
		if c.CompanyID != "1" || seen[c.ID] {
			t.Fatalf("contact %+v is from another company or read twice", c)
		}
		seen[c.ID] = true
	}
	require.Len(t, seen, 10000)
	st := b.sim.Stats()
	require.Equal(t, 20, st.Reads, "⌈10,000/500⌉ pages")
	require.Equal(t, 0, st.Writes)
	require.Equal(t, 21, st.Requests, "plus the zone lookup, which is not metered")
	require.Equal(t, 20, st.QuotaUsed)

	for _, r := range b.sim.Requests()[1:] {
		require.Equal(t, "POST", r.Method, "paging links are POSTed with the original body")
		var q map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &q))
		require.Equal(t, 500.0, q["MaxRecords"])
		require.Contains(t, q["IncludeFields"], "id")
		require.Equal(t, []any{map[string]any{"op": "eq", "field": "companyID", "value": 1.0}}, q["filter"])
	}
}

func TestListStopsWhenTheCallerStops(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	for i := range 700 {
		b.sim.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "U", LastName: fmt.Sprint(i)})
	}
	n := 0
	for _, err := range b.client.ListContacts(context.Background(), "1") {
		require.NoError(t, err)
		if n++; n == 10 {
			break
		}
	}
	require.Equal(t, 1, b.sim.Stats().Reads, "the second page is never read")
}

func TestZoneLookupIsCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	zoneRequests := func(sim *atsim.Sim) int {
		n := 0
		for _, r := range sim.Requests() {
			if strings.HasSuffix(r.Path, "zoneInformation") {
				n++
				require.Equal(t, "user="+strings.ReplaceAll(atsim.DefaultUsername, "@", "%40"), r.RawQuery)
				require.Equal(t, "/atservicesrest/v1.0/zoneInformation", r.Path)
			}
		}
		return n
	}

	cached := setup(t, nil, nil)
	for range 3 {
		_, err := cached.client.ThresholdInformation(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, 1, zoneRequests(cached.sim))

	uncached := setup(t, nil, nil, autotask.WithZoneCache(0))
	for range 3 {
		_, err := uncached.client.ThresholdInformation(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, 3, zoneRequests(uncached.sim))
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, func(c *autotask.Config) { c.ImpersonationResourceID = "29682885" })
	_, err := b.client.GetCompany(context.Background(), "1")
	require.NoError(t, err)
	for _, r := range b.sim.Requests() {
		require.Equal(t, atsim.DefaultIntegrationCode, r.Header.Get("ApiIntegrationCode"))
		require.Equal(t, atsim.DefaultUsername, r.Header.Get("UserName"))
		require.Equal(t, atsim.DefaultSecret, r.Header.Get("Secret"))
		require.Equal(t, "29682885", r.Header.Get("ImpersonationResourceId"))
		require.Equal(t, "application/json", r.Header.Get("Accept"))
	}
}

func TestCompanies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, nil)
	b.sim.AddCompany(3, "Acme Subsidiary")

	c, err := b.client.GetCompany(ctx, "1")
	require.NoError(t, err)
	require.Equal(t, autotask.Company{ID: "1", Name: "Acme", Active: true}, c)

	_, err = b.client.GetCompany(ctx, "99")
	require.ErrorIs(t, err, psa.ErrNotFound)

	list, err := b.client.QueryCompanies(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []autotask.Company{{ID: "1", Name: "Acme", Active: true}, {ID: "3", Name: "Acme Subsidiary", Active: true}}, list)

	all, err := b.client.QueryCompanies(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
}

func TestThresholdInformation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	th, err := b.client.ThresholdInformation(context.Background())
	require.NoError(t, err)
	require.Equal(t, autotask.Threshold{Limit: 10000, Timeframe: time.Hour, Used: 1}, th)
	require.Equal(t, 9999, th.Remaining())
	require.InDelta(t, 0.0001, th.Fraction(), 1e-9)
}

func TestBadIDsAreRefusedWithoutARequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, nil)
	_, err := b.client.GetContact(ctx, "abc")
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.FindContactsByEmail(ctx, "1", " ")
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.CreateContact(ctx, psa.Contact{CompanyID: "x"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.UpdateContact(ctx, psa.Contact{ID: "-4", CompanyID: "1"}, []psa.Field{psa.FieldEmail})
	require.ErrorIs(t, err, psa.ErrInvalid)
	for _, err := range b.client.ListContacts(ctx, "1.5") {
		require.ErrorIs(t, err, psa.ErrInvalid)
	}
	require.Zero(t, b.sim.Stats().Requests)
}

func TestNewRejectsABadConfig(t *testing.T) {
	t.Parallel()
	_, err := autotask.New(autotask.Config{Username: "u", Secret: "s3cr3t-value"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "integration_code")
	require.NotContains(t, err.Error(), "s3cr3t-value")
}

func TestSupportedFields(t *testing.T) {
	t.Parallel()
	plain := setup(t, nil, nil)
	require.NotContains(t, plain.client.SupportedFields(), psa.FieldDepartment)
	require.Contains(t, plain.client.SupportedFields(), psa.FieldExternalID)
	full := setup(t, nil, withUDFs)
	for _, f := range psa.CanonicalFields {
		require.Contains(t, full.client.SupportedFields(), f)
	}
}

// errorsAs is errors.As for *psa.Error, for brevity in tables.
func errorsAs(err error) *psa.Error {
	var pe *psa.Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// newFakeAutotask serves a zone lookup that points at itself and hands every
// other request to api; it returns the server root. It stands in for a
// misbehaving Autotask that the simulator will not imitate.
func newFakeAutotask(t *testing.T, api http.HandlerFunc) string {
	t.Helper()
	var root string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/zoneInformation") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"zoneName":"Fake","url":%q,"webUrl":%q,"ci":0}`, root+"/ATServicesRest/", root+"/")
			return
		}
		api(w, r)
	}))
	t.Cleanup(srv.Close)
	root = srv.URL
	return root
}

func TestLoggerNeverSeesTheSecret(t *testing.T) {
	t.Parallel()
	var logged safeBuffer
	logger := logrus.New()
	logger.Out, logger.Level, logger.Formatter = &logged, logrus.DebugLevel, &logrus.TextFormatter{DisableColors: true}
	b := setup(t, nil, nil, autotask.WithLogger(logger.WithField("tenant", "acme")), autotask.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	ctx := context.Background()
	_, err := b.client.CreateContact(ctx, psa.Contact{CompanyID: "1", FirstName: "A", LastName: "B", Email: "a@acme.test"})
	require.NoError(t, err)
	b.sim.InjectFault(atsim.Fault{Status: 401})
	_, err = b.client.GetCompany(ctx, "1")
	require.ErrorIs(t, err, psa.ErrPermission)

	out := logged.String()
	require.Contains(t, out, "autotask request")
	require.Contains(t, out, "/ATServicesRest/V1.0/Companies/1/Contacts")
	require.Contains(t, out, "status=401")
	require.Contains(t, out, "tenant=acme", "the caller's fields are kept")
	require.NotContains(t, out, atsim.DefaultSecret)
	require.NotContains(t, out, "a@acme.test", "bodies are not logged")
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
