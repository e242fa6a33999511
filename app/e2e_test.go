package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
	"github.com/psasync/psasync/worker/reporttest"
)

// testBundle is one simulated world (Graph simulator with the real token
// flow, a PSA simulator, Redis) and psasync wired to it as the binary is.
type testBundle struct {
	env     *simenv.Env
	stack   *app.App
	tenant  string
	company int
}

type setupOpts struct {
	psa     string
	users   int
	seedPSA bool
	mutate  func(*config.Config)
}

// testRedis points a config at the Redis of TEST_REDIS_ADDR under a key
// prefix of its own, or at a miniredis of the test's own.
func testRedis(t testing.TB, c *config.Config) {
	t.Helper()
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		c.Redis.Addr = addr
		c.Redis.KeyPrefix = fmt.Sprintf("psasync-test:%s:%d:", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
		// asynq's keys are per queue name: a queue set of the test's own.
		c.Redis.QueuePrefix = c.Redis.KeyPrefix
		// Registered before the node starts, so it runs after the node stopped.
		t.Cleanup(func() {
			cleanTestRedis(t, c.Redis.Addr, c.Redis.DB, c.Redis.KeyPrefix, worker.PrefixedQueues(c.Redis.QueuePrefix))
		})
		return
	}
	mr := miniredis.RunT(t)
	t.Cleanup(app.FollowRealTime(mr))
	c.Redis.Addr = mr.Addr()
}

func quietLogger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	return l
}

func setup(t *testing.T, o setupOpts) *testBundle {
	t.Helper()
	if o.users == 0 {
		o.users = 60
	}
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: o.psa, Users: o.users, SeedPSA: o.seedPSA, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	testRedis(t, cfg)
	// The PSA quota is on, as in production, with a budget the suite never
	// spends; the quota tests measure real budgets.
	cfg.PSA.Quota = &quota.Config{Requests: 100000, Period: time.Hour, MaxConcurrent: 4}
	if o.mutate != nil {
		o.mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	a, err := app.New(context.Background(), cfg, app.Options{Logger: quietLogger(), HTTPClient: env.HTTPClient})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return &testBundle{env: env, stack: a, tenant: env.Tenants[0], company: simenv.DefaultCompanyID}
}

func (b *testBundle) run(t *testing.T, mode string, mut func(*worker.RunInputs)) *worker.Report {
	t.Helper()
	in := worker.DefaultRunInputs(b.tenant)
	in.SyncMode = mode
	if mut != nil {
		mut(&in)
	}
	rep, err := b.stack.Engine().Run(context.Background(), "test", in)
	require.NoError(t, err)
	reporttest.Validate(t, rep)
	return rep
}

// writes counts the PSA writes made by fn.
func (b *testBundle) writes(fn func()) (reads, writes int) {
	before := b.env.PSA.Stats()
	fn()
	after := b.env.PSA.Stats()
	return after.Reads - before.Reads, after.Writes - before.Writes
}

// syncable is psasync's default scope, written out independently of the
// mapping package: enabled members with a mailbox, not svc-*/admin*.
func syncable(u graphsim.User) bool {
	local := strings.ToLower(strings.SplitN(u.UserPrincipalName, "@", 2)[0])
	return (u.AccountEnabled == nil || *u.AccountEnabled) && u.UserType != "Guest" &&
		!strings.HasPrefix(local, "svc-") && !strings.HasPrefix(local, "admin")
}

func psaTypes() []string {
	return []string{config.PSAConnectWise, config.PSAAutotask, config.PSAHaloPSA}
}

func TestFirstRunCreatesAndSecondRunWritesNothing(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: p})
			var rep *worker.Report
			_, w := b.writes(func() { rep = b.run(t, worker.ModeFull, nil) })
			require.True(t, rep.Success, "errors: %+v", rep.Errors)

			users := b.env.Graph.Users(b.tenant)
			contacts := b.env.PSA.Contacts(b.company)
			byExt := map[string]simenv.Contact{}
			for _, c := range contacts {
				byExt[c.ExternalID] = c
			}
			want := 0
			for _, u := range users {
				c, ok := byExt[u.ID]
				if !syncable(u) {
					require.False(t, ok, "%s is out of scope but got a contact", u.UserPrincipalName)
					continue
				}
				want++
				require.True(t, ok, "%s has no contact", u.UserPrincipalName)
				email := u.Mail
				if email == "" {
					email = u.UserPrincipalName
				}
				require.True(t, strings.EqualFold(email, c.Email), "email of %s", u.UserPrincipalName)
				require.Equal(t, u.JobTitle, c.Title, "title of %s", u.UserPrincipalName)
				if len(u.BusinessPhones) > 0 {
					require.Equal(t, u.BusinessPhones[0], c.Phone)
				}
				require.Equal(t, u.MobilePhone, c.MobilePhone)
				if u.GivenName != "" {
					require.Equal(t, u.GivenName, c.FirstName)
				}
				require.False(t, c.Inactive)
			}
			require.Equal(t, want, rep.Statistics.ContactsCreated)
			require.Len(t, rep.CreatedContacts, want)
			require.Equal(t, want, w, "one write per created contact")
			enabled := 0
			for _, u := range users {
				if u.AccountEnabled == nil || *u.AccountEnabled {
					enabled++
				}
			}
			require.Equal(t, enabled, rep.Statistics.TotalOffice365Users, "the tenant's enabled users")
			require.Equal(t, len(users), rep.Statistics.UsersProcessed, "every user read, no contact")

			// Field for field in the Returned Data shape.
			raw, err := json.Marshal(rep)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m))
			for _, k := range []string{"success", "sync_mode", "sync_timestamp", "statistics", "created_contacts", "updated_contacts", "errors", "warnings"} {
				require.Contains(t, m, k)
			}
			stats := m["statistics"].(map[string]any)
			for _, k := range []string{"total_office365_users", "users_processed", "contacts_created", "contacts_updated", "contacts_skipped", "errors"} {
				require.IsType(t, float64(0), stats[k], k)
			}
			require.Equal(t, "full", m["sync_mode"])
			_, err = time.Parse(time.RFC3339, m["sync_timestamp"].(string))
			require.NoError(t, err)
			created := m["created_contacts"].([]any)[0].(map[string]any)
			for _, k := range []string{"office365_id", "user_principal_name", "display_name", "psa_contact_id", "psa_company_id", "status"} {
				require.IsType(t, "", created[k], k)
			}
			require.Equal(t, "created", created["status"])

			var rep2 *worker.Report
			_, w2 := b.writes(func() { rep2 = b.run(t, worker.ModeFull, nil) })
			require.Zero(t, w2, "second run makes no PSA writes")
			require.True(t, rep2.Success)
			require.Zero(t, rep2.Statistics.ContactsCreated+rep2.Statistics.ContactsUpdated)
			require.Equal(t, rep2.Statistics.UsersProcessed, rep2.Statistics.ContactsSkipped)

			_, w3 := b.writes(func() { rep2 = b.run(t, worker.ModeIncremental, nil) })
			require.Zero(t, w3, "incremental run with no change makes no PSA writes")
			require.Equal(t, worker.ModeIncremental, rep2.SyncMode)
			require.Equal(t, enabled, rep2.Statistics.TotalOffice365Users, "counted by Graph in an incremental run too")
			require.Zero(t, rep2.Statistics.UsersProcessed, "nothing changed, nobody evaluated")
		})
	}
}

// firstSyncable returns a user in scope with a phone.
func firstSyncable(t *testing.T, b *testBundle) graphsim.User {
	t.Helper()
	for _, u := range b.env.Graph.Users(b.tenant) {
		if syncable(u) && len(u.BusinessPhones) > 0 && u.Mail != "" {
			return u
		}
	}
	t.Fatal("no syncable user with a phone")
	return graphsim.User{}
}

func contactOf(t *testing.T, b *testBundle, userID string) simenv.Contact {
	t.Helper()
	for _, c := range b.env.PSA.Contacts(b.company) {
		if c.ExternalID == userID {
			return c
		}
	}
	t.Fatalf("no contact linked to %s", userID)
	return simenv.Contact{}
}

func TestUpdateDeactivateReactivate(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		for _, mode := range []string{worker.ModeFull, worker.ModeIncremental} {
			t.Run(p+"/"+mode, func(t *testing.T) {
				t.Parallel()
				b := setup(t, setupOpts{psa: p})
				require.True(t, b.run(t, worker.ModeFull, nil).Success)
				u := firstSyncable(t, b)

				_, err := b.env.Graph.UpdateUser(b.tenant, u.ID, map[string]any{"businessPhones": []string{"+1 425 555 0199"}, "jobTitle": "Chief Sync Officer"})
				require.NoError(t, err)
				var rep *worker.Report
				_, w := b.writes(func() { rep = b.run(t, mode, nil) })
				require.True(t, rep.Success, "%+v", rep.Errors)
				require.Equal(t, 1, w, "exactly one PATCH")
				require.Len(t, rep.UpdatedContacts, 1)
				require.Equal(t, []string{"phone", "job_title"}, rep.UpdatedContacts[0].ChangedFields)
				c := contactOf(t, b, u.ID)
				require.Equal(t, "Chief Sync Officer", c.Title)
				require.Equal(t, "+1 425 555 0199", c.Phone)
				require.Equal(t, u.Mail, c.Email, "a phone change keeps the email")

				_, err = b.env.Graph.UpdateUser(b.tenant, u.ID, map[string]any{"accountEnabled": false})
				require.NoError(t, err)
				rep = b.run(t, mode, nil)
				require.True(t, rep.Success, "%+v", rep.Errors)
				require.Equal(t, 1, rep.Statistics.ContactsDeactivated)
				require.True(t, contactOf(t, b, u.ID).Inactive)

				_, err = b.env.Graph.UpdateUser(b.tenant, u.ID, map[string]any{"accountEnabled": true})
				require.NoError(t, err)
				rep = b.run(t, mode, nil)
				require.True(t, rep.Success, "%+v", rep.Errors)
				require.Equal(t, 1, rep.Statistics.ContactsReactivated)
				require.Equal(t, []string{"inactive"}, rep.UpdatedContacts[0].ChangedFields)
				require.False(t, contactOf(t, b, u.ID).Inactive)

				require.NoError(t, b.env.Graph.DeleteUser(b.tenant, u.ID))
				rep = b.run(t, mode, nil)
				require.True(t, rep.Success, "%+v", rep.Errors)
				require.Equal(t, 1, rep.Statistics.ContactsDeactivated, "a deleted user's contact is deactivated, never deleted")
				require.True(t, contactOf(t, b, u.ID).Inactive)
			})
		}
	}
}

func TestDryRunMatchesTheRealRun(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: p, seedPSA: true})
			var dry *worker.Report
			_, w := b.writes(func() { dry = b.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.DryRun = true }) })
			require.Zero(t, w, "dry run writes nothing")
			require.True(t, dry.DryRun)
			real := b.run(t, worker.ModeFull, nil)
			require.Equal(t, dry.Statistics, real.Statistics, "dry errors %+v\nreal errors %+v", dry.Errors, real.Errors)
			key := func(cs []worker.ContactResult) []string {
				var out []string
				for _, c := range cs {
					out = append(out, c.UserPrincipalName+"|"+c.Office365ID+"|"+c.Status+"|"+c.Action+"|"+strings.Join(c.ChangedFields, ",")+"|"+c.PSACompanyID)
				}
				slices.Sort(out)
				return out
			}
			require.Equal(t, key(dry.CreatedContacts), key(real.CreatedContacts))
			require.Equal(t, key(dry.UpdatedContacts), key(real.UpdatedContacts))
			require.NotEmpty(t, real.UpdatedContacts)
		})
	}
}

func TestDuplicateContactsAreNotGuessed(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: p})
			u := firstSyncable(t, b)
			for i := 0; i < 2; i++ {
				b.env.PSA.Seed(simenv.Contact{CompanyID: b.company, FirstName: u.GivenName, LastName: fmt.Sprint(u.Surname, i), Email: u.Mail})
			}
			before := len(b.env.PSA.Contacts(b.company))
			rep := b.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.UserPrincipalNames = []string{u.UserPrincipalName} })
			require.False(t, rep.Success)
			require.Len(t, rep.Errors, 1)
			require.Equal(t, worker.CodeDuplicateContact, rep.Errors[0].Code)
			require.Equal(t, u.UserPrincipalName, rep.Errors[0].UserPrincipalName)
			require.Len(t, b.env.PSA.Contacts(b.company), before, "nothing created")
		})
	}
}

func TestMissingCompany(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: p, mutate: func(c *config.Config) { c.Tenants[0].PSADefaultCompanyID = "" }})
			rep := b.run(t, worker.ModeFull, nil)
			require.False(t, rep.Success)
			require.NotEmpty(t, rep.Errors)
			for _, e := range rep.Errors {
				require.Equal(t, worker.CodeMissingCompanyID, e.Code)
				require.NotEmpty(t, e.UserPrincipalName)
			}
			require.Zero(t, b.env.PSA.Stats().Writes)

			// The run's company_id fills the gap.
			rep = b.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.CompanyID = strconv.Itoa(b.company) })
			require.True(t, rep.Success, "%+v", rep.Errors)
		})
	}
}

func TestFailuresGiveTheirCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		psa   string
		fault func(b *testBundle)
		code  string
	}{
		{"psa 401", config.PSAConnectWise, func(b *testBundle) { b.env.PSA.InjectFault(simenv.Fault{Status: 401}) }, worker.CodePermissionDenied},
		{"psa 403", config.PSAConnectWise, func(b *testBundle) { b.env.PSA.InjectFault(simenv.Fault{Status: 403}) }, worker.CodePermissionDenied},
		{"autotask 401", config.PSAAutotask, func(b *testBundle) { b.env.PSA.InjectFault(simenv.Fault{Status: 401}) }, worker.CodePermissionDenied},
		{"halo 403", config.PSAHaloPSA, func(b *testBundle) { b.env.PSA.InjectFault(simenv.Fault{Status: 403}) }, worker.CodePermissionDenied},
		{"graph 403 no consent", config.PSAConnectWise, func(b *testBundle) {
			b.env.Graph.InjectFault(graphsim.Fault{PathContains: "/users", Status: 403, Code: "Authorization_RequestDenied"})
		}, worker.CodePermissionDenied},
		{"connectwise unreachable", config.PSAConnectWise, func(b *testBundle) { b.env.StopPSA() }, worker.CodePSAConnectionError},
		{"autotask unreachable", config.PSAAutotask, func(b *testBundle) { b.env.StopPSA() }, worker.CodePSAConnectionError},
		{"halopsa unreachable", config.PSAHaloPSA, func(b *testBundle) { b.env.StopPSA() }, worker.CodePSAConnectionError},
		{"autotask 503", config.PSAAutotask, func(b *testBundle) { b.env.PSA.InjectFault(simenv.Fault{Status: 503}) }, worker.CodePSAConnectionError},
		{"psa 500", config.PSAHaloPSA, func(b *testBundle) { b.env.PSA.InjectFault(simenv.Fault{Status: 500}) }, worker.CodePSAConnectionError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: tc.psa})
			tc.fault(b)
			rep := b.run(t, worker.ModeFull, nil)
			require.False(t, rep.Success)
			require.NotEmpty(t, rep.Errors)
			require.Equal(t, tc.code, rep.Errors[0].Code, "%+v", rep.Errors[0])
			require.NotEmpty(t, rep.Errors[0].Message)
			require.False(t, rep.Errors[0].Timestamp.IsZero())
		})
	}
}

func TestThrottlingIsWaitedOut(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: p, users: 20})
			b.env.PSA.InjectFault(simenv.Fault{Method: "POST", Status: 429, RetryAfter: "0.3", Count: 2})
			b.env.Graph.InjectFault(graphsim.Fault{PathContains: "/users", Status: 429, RetryAfter: "0.2", Count: 1})
			rep := b.run(t, worker.ModeFull, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.NotZero(t, rep.Statistics.ContactsCreated)
			require.GreaterOrEqual(t, b.env.PSA.Stats().Throttled, 1)
		})
	}
}

func TestDeactivationGuard(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{psa: p})
			first := b.run(t, worker.ModeFull, nil)
			require.True(t, first.Success)
			linked := first.Statistics.ContactsCreated
			// Disable half the tenant: far more than 20% of the company's contacts.
			n := 0
			for _, u := range b.env.Graph.Users(b.tenant) {
				if syncable(u) && n < linked/2 {
					_, err := b.env.Graph.UpdateUser(b.tenant, u.ID, map[string]any{"accountEnabled": false})
					require.NoError(t, err)
					n++
				}
			}
			var rep *worker.Report
			_, w := b.writes(func() { rep = b.run(t, worker.ModeFull, nil) })
			require.Zero(t, w, "the guard deactivates none")
			require.Zero(t, rep.Statistics.ContactsDeactivated)
			var guard bool
			for _, wi := range rep.Warnings {
				guard = guard || wi.Code == worker.WarnDeactivationGuard
			}
			require.True(t, guard, "the run warns: %+v", rep.Warnings)
			for _, c := range b.env.PSA.Contacts(b.company) {
				require.False(t, c.Inactive)
			}
		})
	}
}

// TestExpiredDeltaLinkFallsBackToFull: Graph forgets delta tokens after
// about a week; the incremental run then enumerates every user and still
// carries the change.
func TestExpiredDeltaLinkFallsBackToFull(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{psa: config.PSAConnectWise})
	require.True(t, b.run(t, worker.ModeFull, nil).Success)
	u := firstSyncable(t, b)
	require.NoError(t, b.env.Graph.ExpireDeltaTokens(b.tenant))
	_, err := b.env.Graph.UpdateUser(b.tenant, u.ID, map[string]any{"jobTitle": "After The Reset"})
	require.NoError(t, err)
	var rep *worker.Report
	_, w := b.writes(func() { rep = b.run(t, worker.ModeIncremental, nil) })
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Equal(t, worker.ModeFull, rep.SyncMode)
	require.Equal(t, 1, w)
	var reset bool
	for _, wi := range rep.Warnings {
		reset = reset || wi.Code == worker.WarnDeltaReset
	}
	require.True(t, reset, "%+v", rep.Warnings)
	require.Equal(t, "After The Reset", contactOf(t, b, u.ID).Title)
	// The fresh link works: the next incremental run is a real delta.
	rep = b.run(t, worker.ModeIncremental, nil)
	require.Equal(t, worker.ModeIncremental, rep.SyncMode)
}
