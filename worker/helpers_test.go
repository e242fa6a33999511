package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/worker"
	"github.com/psasync/psasync/worker/reporttest"
)

// queueDB is the Redis database the queue tests use on a real Redis: the
// end-to-end tests run asynq servers on database 0 that would take (and
// fail) the jobs these tests only inspect.
const queueDB = 11

// testRedis is a Redis for one test: a fresh miniredis, or the real one at
// TEST_REDIS_ADDR with a key prefix of the test's own.
type testRedis struct {
	rdb    *redis.Client
	prefix string
	mr     *miniredis.Miniredis // nil on a real Redis
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newRedis(t *testing.T) testRedis { return newRedisDB(t, 0) }

// newRedisDB is newRedis on database db of a real Redis; miniredis always
// uses its own server.
func newRedisDB(t *testing.T, db int) testRedis {
	t.Helper()
	prefix := "psasync-test-" + randomID() + ":"
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		t.Cleanup(func() {
			ctx := context.Background()
			keys, _ := rdb.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
			_ = rdb.Close()
		})
		return testRedis{rdb: rdb, prefix: prefix}
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return testRedis{rdb: rdb, prefix: prefix, mr: mr}
}

// elapse lets d pass for the process and for Redis's key expiry (miniredis
// only expires keys when told to).
func (r testRedis) elapse(d time.Duration) {
	time.Sleep(d)
	if r.mr != nil {
		r.mr.FastForward(d)
	}
}

// deadRedis is a client of a Redis that has gone away.
func deadRedis(t *testing.T) *redis.Client {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	mr.Close()
	return rdb
}

// The simulated tenant and PSA company every engine test uses.
const (
	tenantID  = "contoso"
	domain    = "contoso.example"
	companyID = 250
	company   = "250"
)

// userID is a GUID-shaped object id, stable per n.
func userID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// member is an enabled, licensed-looking member user with a mailbox, a
// phone and a department.
func member(n int, local, first, last string) graphsim.User {
	return graphsim.User{
		ID: userID(n), UserPrincipalName: local + "@" + domain, Mail: local + "@" + domain,
		DisplayName: first + " " + last, GivenName: first, Surname: last,
		JobTitle: "Engineer", Department: "Sales", OfficeLocation: "HQ",
		BusinessPhones: []string{"+1 555 0100"}, AccountEnabled: graphsim.Bool(true), UserType: "Member",
	}
}

// staticTenants is a fixed tenant list.
type staticTenants map[string]worker.Tenant

func (s staticTenants) Tenant(_ context.Context, id string) (worker.Tenant, error) {
	t, ok := s[id]
	if !ok {
		return worker.Tenant{}, fmt.Errorf("%q: %w", id, worker.ErrUnknownTenant)
	}
	return t, nil
}

// contactView is a PSA contact as a simulator holds it, whatever the PSA.
type contactView struct {
	ID                                            int
	FirstName, LastName, Email, Phone, Title      string
	Department, OfficeLocation, ExternalID, CType string
	Inactive                                      bool
}

type worldOpts struct {
	users []graphsim.User
	// autotask picks the Autotask client (without UDFs) and simulator
	// instead of ConnectWise.
	autotask bool
	tenant   func(*worker.Tenant)
	cfg      worker.Config
	// wrap replaces the PSA client the engine uses (the simulators still
	// answer behind it).
	wrap func(psa.Client) psa.Client
	// store replaces the engine's store.
	store func(testRedis) *worker.Store
}

// world is a simulated tenant and PSA with a real engine over them.
type world struct {
	graph   *graphsim.Sim
	cw      *cwsim.Sim
	at      *atsim.Sim
	client  psa.Client
	redis   testRedis
	store   *worker.Store
	tenants staticTenants
	engine  *worker.Engine
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{redis: newRedis(t)}
	w.graph = graphsim.NewServer(t, graphsim.WithTenant(graphsim.TenantSpec{ID: tenantID, Users: o.users}))
	authority, base, id, secret := w.graph.GraphConfig(tenantID)
	gc, err := graph.New(ctx, graph.Config{TenantID: tenantID, ClientID: id, ClientSecret: secret, AuthorityHost: authority, BaseURL: base},
		graph.WithHTTPClient(w.graph.HTTPClient()))
	require.NoError(t, err)

	if o.autotask {
		w.at = atsim.NewServer(t, atsim.WithHourlyLimit(0), atsim.WithThreadLimit(0))
		w.at.AddCompany(companyID, "Contoso")
		w.client, err = autotask.New(autotask.Config{ZoneURL: w.at.BaseURL(), Username: atsim.DefaultUsername,
			Secret: atsim.DefaultSecret, IntegrationCode: atsim.DefaultIntegrationCode})
	} else {
		w.cw = cwsim.NewServer(t)
		w.cw.AddCompany(companyID, "Contoso")
		for _, d := range []string{"Sales", "Support", "Marketing"} {
			w.cw.AddDepartment(d)
		}
		w.client, err = connectwise.New(connectwise.Config{SiteURL: w.cw.BaseURL(), CompanyID: cwsim.DefaultCompanyID,
			PublicKey: cwsim.DefaultPublicKey, PrivateKey: cwsim.DefaultPrivateKey, ClientID: cwsim.DefaultClientID,
			ObjectIDFieldID: cwsim.ExternalIDFieldID, OfficeLocationFieldID: cwsim.OfficeLocationFieldID})
	}
	require.NoError(t, err)
	client := w.client
	if o.wrap != nil {
		client = o.wrap(client)
	}

	tn := worker.Tenant{ID: tenantID, Name: "Contoso", DefaultCompanyID: company, ContactType: "End User",
		SyncEnabled: true, VerifiedDomains: []string{domain}, Directory: gc}
	if o.tenant != nil {
		o.tenant(&tn)
	}
	w.tenants = staticTenants{tenantID: tn}
	w.store = worker.NewStore(w.redis.rdb, w.redis.prefix)
	if o.store != nil {
		w.store = o.store(w.redis)
	}
	m, err := mapping.New(mapping.DefaultConfig())
	require.NoError(t, err)
	w.engine = worker.NewEngine(client, m, w.store, w.tenants, o.cfg, nil)
	return w
}

// seed stores a contact in the simulated PSA and returns its id.
func (w *world) seed(c contactView) int {
	if w.at != nil {
		return w.at.SeedContact(atsim.SeedContact{CompanyID: companyID, FirstName: c.FirstName, LastName: c.LastName,
			Email: c.Email, Phone: c.Phone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
			ContactType: c.CType, ExternalID: c.ExternalID, Inactive: c.Inactive})
	}
	return w.cw.SeedContact(cwsim.SeedContact{CompanyID: companyID, FirstName: c.FirstName, LastName: c.LastName,
		Email: c.Email, Phone: c.Phone, Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation,
		ContactType: c.CType, ExternalID: c.ExternalID, Inactive: c.Inactive})
}

// seedCurrent stores the contact psasync's default mapping makes of u,
// linked to u when linked is set.
func (w *world) seedCurrent(u graphsim.User, linked bool) int {
	c := contactView{FirstName: u.GivenName, LastName: u.Surname, Email: u.Mail, Phone: u.BusinessPhones[0],
		Title: u.JobTitle, Department: u.Department, OfficeLocation: u.OfficeLocation, CType: "End User"}
	if linked {
		c.ExternalID = u.ID
	}
	return w.seed(c)
}

// contacts is a snapshot of the company's contacts.
func (w *world) contacts() []contactView {
	var out []contactView
	if w.at != nil {
		for _, c := range w.at.Contacts(companyID) {
			out = append(out, contactView{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
				Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation, ExternalID: c.ExternalID,
				CType: c.ContactType, Inactive: c.Inactive})
		}
		return out
	}
	for _, c := range w.cw.Contacts(companyID) {
		out = append(out, contactView{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
			Title: c.Title, Department: c.Department, OfficeLocation: c.OfficeLocation, ExternalID: c.ExternalID,
			CType: c.ContactType, Inactive: c.Inactive})
	}
	return out
}

// contact returns the contact with id.
func (w *world) contact(t *testing.T, id int) contactView {
	t.Helper()
	for _, c := range w.contacts() {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("contact %d does not exist", id)
	return contactView{}
}

// withEmail returns the company's contacts with email, ignoring case.
func (w *world) withEmail(email string) []contactView {
	var out []contactView
	for _, c := range w.contacts() {
		if strings.EqualFold(c.Email, email) {
			out = append(out, c)
		}
	}
	return out
}

// psaStats are the simulated PSA's request counts.
func (w *world) psaStats() (reads, writes, requests int) {
	if w.at != nil {
		s := w.at.Stats()
		return s.Reads, s.Writes, s.Requests
	}
	s := w.cw.Stats()
	return s.Reads, s.Writes, s.Requests
}

func (w *world) writes() int {
	_, n, _ := w.psaStats()
	return n
}

// run performs a run with the workflow's defaults changed by mut.
func (w *world) run(t *testing.T, mode string, mut func(*worker.RunInputs)) *worker.Report {
	t.Helper()
	in := worker.DefaultRunInputs(tenantID)
	in.SyncMode = mode
	if mut != nil {
		mut(&in)
	}
	rep, err := w.engine.Run(context.Background(), "run-"+randomID(), in)
	require.NoError(t, err)
	reporttest.Validate(t, rep)
	return rep
}

// updateUser changes a user in the simulated tenant.
func (w *world) updateUser(t *testing.T, id string, props map[string]any) {
	t.Helper()
	_, err := w.graph.UpdateUser(tenantID, id, props)
	require.NoError(t, err)
}

// updated returns the report's updated contact of upn.
func updated(t *testing.T, rep *worker.Report, upn string) worker.ContactResult {
	t.Helper()
	for _, c := range rep.UpdatedContacts {
		if strings.EqualFold(c.UserPrincipalName, upn) {
			return c
		}
	}
	t.Fatalf("%s is not among the updated contacts: %+v", upn, rep.UpdatedContacts)
	return worker.ContactResult{}
}

// errorCodes returns the report's error codes by user principal name.
func errorCodes(rep *worker.Report) map[string]string {
	out := map[string]string{}
	for _, e := range rep.Errors {
		out[e.UserPrincipalName] = e.Code
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
