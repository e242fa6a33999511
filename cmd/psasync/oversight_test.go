package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// oversight is a simulated world on a real redis-server with an
// append-only file, driven through the psasync binary.
type oversight struct {
	t      *testing.T
	path   string
	env    *simenv.Env
	redis  *redisServer
	cfg    config.Config
	tenant string
}

func newOversight(t *testing.T) *oversight {
	t.Helper()
	o := &oversight{t: t, redis: startRedis(t, t.TempDir())}
	o.path, o.env = writeSimConfig(t, func(c *config.Config) {
		c.Redis.Addr = o.redis.addr()
		o.cfg = *c
	})
	o.tenant = o.env.Tenants[0]
	return o
}

// psasync runs a command against the world's config; it must exit with
// want.
func (o *oversight) psasync(want int, args ...string) string {
	o.t.Helper()
	r := run(o.t, append(args, "--config", o.path)...)
	require.Equal(o.t, want, r.code, "psasync %v\nstdout %s\nstderr %s", args, r.stdout, r.stderr)
	return r.stdout
}

// changes reads the change log through `psasync changes --format json`.
func (o *oversight) changes(filters ...string) []ledger.Entry {
	o.t.Helper()
	var page ledger.Page
	require.NoError(o.t, json.Unmarshal([]byte(o.psasync(exitOK, append([]string{"changes", "--format", "json", "--limit", "1000"}, filters...)...)), &page))
	return page.Entries
}

// enqueue sends a user:sync job as a change notification does, and waits
// for the worker process to finish it.
func (o *oversight) enqueue(user string) worker.UserOutcome {
	o.t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: o.cfg.Redis.Addr})
	defer rdb.Close()
	ac := asynq.NewClient(asynq.RedisClientOpt{Addr: o.cfg.Redis.Addr})
	defer ac.Close()
	store := worker.NewStore(rdb, o.cfg.Redis.Prefix())
	before, _, err := store.UserOutcome(ctx, o.tenant, user)
	require.NoError(o.t, err)
	require.NoError(o.t, worker.NewQueue(ac, store, 0).WithQueues(worker.PrefixedQueues(o.cfg.Redis.QueuePrefix)).EnqueueUserSync(ctx, o.tenant, user))
	var out worker.UserOutcome
	require.Eventually(o.t, func() bool {
		var ok bool
		out, ok, err = store.UserOutcome(ctx, o.tenant, user)
		return err == nil && ok && out.At.After(before.At)
	}, time.Minute, 20*time.Millisecond, "the worker never ran the job of %s", user)
	return out
}

// addUser creates a syncable user (copied from a generated one) with the
// given address.
func (o *oversight) addUser(local string, mutate func(*graphsim.User)) graphsim.User {
	o.t.Helper()
	u := newUser(o.t, o.env, local)
	if mutate != nil {
		mutate(&u)
		props := map[string]any{"mail": u.Mail, "userPrincipalName": u.UserPrincipalName, "userType": u.UserType}
		_, err := o.env.Graph.UpdateUser(o.tenant, u.ID, props)
		require.NoError(o.t, err)
	}
	return u
}

// TestChangeLogRunsAndDecisionsEndToEnd drives the change log, the run
// history and every decision that waits for a person through the psasync
// binary, against the simulators on a real Redis with an append-only file:
// a first sync, a job a notification triggers and an operator's action are
// each on the record with old and new values, in JSON and CSV; the record
// survives restarts of every psasync process and of Redis; a duplicate
// becomes one conflict, resolved by linking and silent afterwards; the
// guard's batch is partly approved and the rest rejected; a user is
// quarantined after three permanent failures, released, then synced; and
// sync-user traces a created, an updated, an out-of-scope and a
// conflicting user.
func TestChangeLogRunsAndDecisionsEndToEnd(t *testing.T) {
	t.Parallel()
	o := newOversight(t)
	ctx := context.Background()
	wp := start(t, "worker", "--config", o.path, "--concurrency", "2")
	require.Eventually(t, func() bool { return strings.Contains(wp.errOut(), "psasync started") }, 30*time.Second, 20*time.Millisecond)

	// A first sync: every write on the record, with old "" and new values.
	o.psasync(exitOK, "sync", "--mode", "full", "--progress", "never")
	first := o.changes("--trigger", "run")
	require.NotEmpty(t, first)
	require.Equal(t, o.env.PSA.Stats().Writes, len(first), "one entry per PSA write")
	for _, e := range first {
		require.Equal(t, "created", e.Action)
		require.Equal(t, ledger.ResultWritten, e.Result)
		require.NotEmpty(t, e.Changes)
		require.Empty(t, e.Changes[0].Old)
	}
	runs := o.psasync(exitOK, "runs", "--tenant", o.tenant, "--format", "json")
	require.Contains(t, runs, `"succeeded"`, "the CLI run is in the run history")

	// A change in Microsoft 365, synced by the job its notification makes.
	target := first[0]
	_, err := o.env.Graph.UpdateUser(o.tenant, target.UserID, map[string]any{"jobTitle": "Chief Auditor"})
	require.NoError(t, err)
	require.Equal(t, "updated", o.enqueue(target.UserID).Action)
	byUser := o.changes("--user", target.UserID)
	require.Len(t, byUser, 2)
	require.Equal(t, ledger.TriggerNotification, byUser[0].Trigger.Kind)
	require.Equal(t, []ledger.FieldChange{{Field: "job_title", Old: byUser[1].Changes[fieldIndex(byUser[1].Changes, "job_title")].New, New: "Chief Auditor"}}, byUser[0].Changes)
	rows, err := csv.NewReader(strings.NewReader(o.psasync(exitOK, "changes", "--user", target.UserID, "--format", "csv"))).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 2, "a header and a row per field change")
	require.Contains(t, strings.Join(rows[1], ","), "Chief Auditor")

	// A seeded duplicate: one conflict, resolved by linking, then silent.
	twin := o.addUser(fmt.Sprintf("twin.%d", time.Now().UnixNano()), nil)
	a := o.env.PSA.Seed(simenv.Contact{CompanyID: simenv.DefaultCompanyID, FirstName: "Twin", LastName: "A", Email: twin.Mail})
	o.env.PSA.Seed(simenv.Contact{CompanyID: simenv.DefaultCompanyID, FirstName: "Twin", LastName: "B", Email: twin.Mail})
	out := o.psasync(exitFailed, "sync", "--mode", "full", "--progress", "never")
	require.Contains(t, out, "DuplicateContact")
	o.psasync(exitOK, "sync", "--mode", "full", "--progress", "never") // reported once
	var conflicts struct{ Conflicts []ledger.Conflict }
	require.NoError(t, json.Unmarshal([]byte(o.psasync(exitOK, "conflicts", "list")), &conflicts))
	require.Len(t, conflicts.Conflicts, 1)
	require.Len(t, conflicts.Conflicts[0].Candidates, 2)
	o.psasync(exitBadArgs, "conflicts", "resolve", "--user", twin.ID, "--contact", "999999")
	o.psasync(exitOK, "conflicts", "resolve", "--user", twin.ID, "--contact", strconv.Itoa(a))
	op := o.changes("--trigger", "operator")
	require.Len(t, op, 1)
	require.Equal(t, strconv.Itoa(a), op[0].ContactID)
	require.Contains(t, op[0].Trigger.Actor, "cli")
	opRows, err := csv.NewReader(strings.NewReader(o.psasync(exitOK, "changes", "--trigger", "operator", "--format", "csv"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, opRows, 1+len(op[0].Changes), "a header and a row per field the link wrote")
	linked := false
	for _, row := range opRows[1:] {
		require.Equal(t, []string{strconv.Itoa(a), "operator", ledger.ResultWritten}, []string{row[6], row[11], row[16]})
		linked = linked || (row[8] == "m365_object_id" && row[9] == "" && row[10] == twin.ID)
	}
	require.True(t, linked, "the CSV shows the object id written onto the chosen contact")
	o.psasync(exitBadArgs, "conflicts", "resolve", "--user", twin.ID, "--contact", "424242")
	writes := o.env.PSA.Stats().Writes
	for range 2 {
		o.psasync(exitOK, "sync", "--mode", "full", "--progress", "never")
	}
	require.Equal(t, writes, o.env.PSA.Stats().Writes, "honoured and silent")

	// Every psasync process restarts, and so does Redis: the record stays.
	before := o.changes()
	require.Equal(t, exitOK, wp.stop(t))
	o.redis.kill()
	o.redis.start()
	require.Equal(t, before, o.changes(), "the change log survived the restarts")
	wp = start(t, "worker", "--config", o.path, "--concurrency", "2")
	require.Eventually(t, func() bool { return strings.Contains(wp.errOut(), "psasync started") }, 30*time.Second, 20*time.Millisecond)

	// The guard holds a mass deactivation; part is approved, the rest
	// rejected and not proposed again.
	var disabled []string
	for _, e := range first[1:5] {
		_, err := o.env.Graph.UpdateUser(o.tenant, e.UserID, map[string]any{"accountEnabled": false})
		require.NoError(t, err)
		disabled = append(disabled, e.ContactID)
	}
	out = o.psasync(exitOK, "sync", "--mode", "full", "--progress", "never")
	require.Contains(t, out, "DeactivationGuard")
	var held struct{ Held []ledger.HeldBatch }
	require.NoError(t, json.Unmarshal([]byte(o.psasync(exitOK, "held", "list")), &held))
	require.Len(t, held.Held, 1)
	batch := held.Held[0]
	require.Len(t, batch.Contacts, 4)
	o.psasync(exitOK, "held", "approve", batch.ID, "--contact", disabled[0], "--contact", disabled[1])
	o.psasync(exitOK, "held", "reject", batch.ID)
	o.psasync(exitBadArgs, "held", "approve", batch.ID) // decided: stale
	out = o.psasync(exitOK, "sync", "--mode", "full", "--progress", "never")
	require.NotContains(t, out, "DeactivationGuard", "the rejected contacts are not proposed again")
	for i, id := range disabled {
		n, _ := strconv.Atoi(id)
		c, ok := o.env.PSA.Contact(n)
		require.True(t, ok)
		require.Equal(t, i < 2, c.Inactive, "contact %s", id)
	}
	deactivated := o.changes("--action", "deactivated")
	require.Len(t, deactivated, 2)
	require.Equal(t, ledger.TriggerOperator, deactivated[0].Trigger.Kind)

	// Three permanent failures quarantine a user; released, it syncs.
	_, initial := graphsim.Domains(o.tenant)
	broken := o.addUser(fmt.Sprintf("nomail.%d", time.Now().UnixNano()), func(u *graphsim.User) {
		u.UserPrincipalName = strings.Split(u.UserPrincipalName, "@")[0] + "@" + initial
		u.Mail = ""
	})
	for range 3 {
		require.Equal(t, "failed", o.enqueue(broken.ID).Action)
	}
	var quarantine struct{ Quarantine []ledger.Quarantine }
	require.NoError(t, json.Unmarshal([]byte(o.psasync(exitOK, "quarantine", "list")), &quarantine))
	require.Len(t, quarantine.Quarantine, 1)
	require.Equal(t, broken.ID, quarantine.Quarantine[0].UserID)
	require.Contains(t, o.enqueue(broken.ID).Reason, "quarantined")
	o.psasync(exitOK, "quarantine", "release", "--user", broken.ID)
	verified, _ := graphsim.Domains(o.tenant)
	_, err = o.env.Graph.UpdateUser(o.tenant, broken.ID, map[string]any{"mail": "fixed." + strconv.FormatInt(time.Now().UnixNano(), 10) + "@" + verified})
	require.NoError(t, err)
	require.Equal(t, "created", o.enqueue(broken.ID).Action)

	// sync-user: the whole trace for each kind of user.
	newcomer := o.addUser(fmt.Sprintf("ondemand.%d", time.Now().UnixNano()), nil)
	guest := o.addUser(fmt.Sprintf("guest.%d", time.Now().UnixNano()), func(u *graphsim.User) { u.UserType = "Guest" })
	other := o.addUser(fmt.Sprintf("twin2.%d", time.Now().UnixNano()), nil)
	o.env.PSA.Seed(simenv.Contact{CompanyID: simenv.DefaultCompanyID, FirstName: "Twin", LastName: "C", Email: other.Mail})
	o.env.PSA.Seed(simenv.Contact{CompanyID: simenv.DefaultCompanyID, FirstName: "Twin", LastName: "D", Email: other.Mail})
	trace := func(args ...string) worker.Trace {
		var tr worker.Trace
		require.NoError(t, json.Unmarshal([]byte(o.psasync(exitOK, append([]string{"sync-user"}, args...)...)), &tr))
		steps := map[string]bool{}
		for _, s := range tr.Steps {
			steps[s.Step] = true
		}
		require.True(t, steps[worker.StepRead] && steps[worker.StepScope] && steps[worker.StepWrite], "%+v", tr.Steps)
		require.NotEmpty(t, tr.User["id"])
		return tr
	}
	require.Equal(t, "created", trace("--upn", newcomer.UserPrincipalName).Outcome.Action)
	_, err = o.env.Graph.UpdateUser(o.tenant, newcomer.ID, map[string]any{"jobTitle": "Trace Tester"})
	require.NoError(t, err)
	upd := trace("--user", newcomer.ID, "--dry-run")
	require.True(t, upd.DryRun)
	require.Equal(t, "updated", upd.Outcome.Action)
	require.Equal(t, "skipped", trace("--upn", guest.UserPrincipalName).Outcome.Action)
	conflicting := trace("--upn", other.UserPrincipalName)
	require.Equal(t, worker.CodeDuplicateContact, conflicting.Outcome.Code)
	o.psasync(exitBadArgs, "sync-user", "--upn", "nobody@"+verified)
	_ = ctx
}

func fieldIndex(cs []ledger.FieldChange, field string) int {
	for i, c := range cs {
		if c.Field == field {
			return i
		}
	}
	return -1
}
