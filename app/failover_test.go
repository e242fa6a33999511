package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/internal/redistest"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// burstSender posts notifications as Graph does: each one until it is
// answered 202, retrying any other answer (or none) with a doubling delay.
type burstSender struct {
	url    string
	client *http.Client

	mu       sync.Mutex
	posts    int
	accepted int
	refused  int
	killedAt time.Time
	// recovered is when the first POST sent after killedAt was answered 202.
	recovered time.Time
	// calm are the answer times of the 202s sent before the kill.
	calm   []time.Duration
	wg     sync.WaitGroup
	failed []string
}

func (b *burstSender) send(body []byte, what string) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		backoff := 50 * time.Millisecond
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			start := time.Now()
			code := 0
			resp, err := b.client.Post(b.url, "application/json", bytes.NewReader(body))
			if err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			b.mu.Lock()
			b.posts++
			if code == http.StatusAccepted {
				b.accepted++
				if b.killedAt.IsZero() {
					b.calm = append(b.calm, time.Since(start))
				}
				if !b.killedAt.IsZero() && start.After(b.killedAt) && b.recovered.IsZero() {
					b.recovered = time.Now()
				}
			} else {
				b.refused++
			}
			b.mu.Unlock()
			if code == http.StatusAccepted {
				return
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
		}
		b.mu.Lock()
		b.failed = append(b.failed, what)
		b.mu.Unlock()
	}()
}

// median is the middle of ds (0 for none).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}

// TestSentinelFailoverLosesNothing runs psasync (webhook and worker roles)
// on a Sentinel setup of one master, one replica and three sentinels, sends
// a burst of user changes with their notifications, and SIGKILLs the
// master at a random point of the burst. Sentinel promotes the replica;
// the killed node comes back as a replica, as a supervisor would restart
// it. psasync must carry on by itself: every notification is eventually
// answered 202 (Graph delivers again after a 503), the PSA ends equal to
// Microsoft 365 with no duplicate contact and no lost change, checked by
// the last title of every changed user and by a full dry run that finds
// nothing to write.
func TestSentinelFailoverLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.StartSentinel(t)
	env, cfg := haWorld(t, 40, config.Redis{Sentinel: config.RedisSentinel{MasterName: s.MasterName, Addrs: s.Addrs,
		ReplicaAckTimeout: 500 * time.Millisecond}}, s.External)
	nb := startNodeWith(t, env, cfg, nodeOpts{roles: app.RoleWebhook | app.RoleWorker, subscribe: true})
	require.True(t, nb.fullSync(t).Success)
	rec, ok, err := nb.n.Subscriptions().ByTenant(ctx, nb.tenant)
	require.NoError(t, err)
	require.True(t, ok)
	var users []graphsim.User
	for _, u := range env.Graph.Users(nb.tenant) {
		if syncable(u) && u.Mail != "" {
			users = append(users, u)
		}
	}
	require.NotEmpty(t, users)
	contactsBefore := len(env.PSA.Contacts(nb.company))
	writesBefore := env.PSA.Stats().Writes

	const changes = 120
	killAt := changes/5 + rand.IntN(changes*3/5) // somewhere in the middle three fifths
	snd := &burstSender{url: nb.n.BaseURL() + "/webhook/graph", client: &http.Client{Timeout: 5 * time.Second}}
	want := map[string]string{} // user id -> last title
	var killed string
	var failedOverAt time.Time
	restarted := make(chan error, 1)
	for i := range changes {
		if i == killAt {
			killed, err = s.Fail(ctx)
			require.NoError(t, err)
			snd.mu.Lock()
			snd.killedAt = time.Now()
			snd.mu.Unlock()
			go func() {
				// The supervisor: once Sentinel has promoted the replica,
				// the killed node comes back as its replica.
				if _, err := s.WaitFailover(ctx, killed, 60*time.Second); err != nil {
					restarted <- err
					return
				}
				failedOverAt = time.Now()
				restarted <- s.Restart(ctx, killed)
			}()
		}
		u := users[rand.IntN(len(users))]
		title := fmt.Sprintf("Burst %03d", i)
		_, err := env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": title})
		require.NoError(t, err)
		want[u.ID] = title
		body, err := json.Marshal(notification(rec.ID, rec.ClientState, nb.tenant, u.ID))
		require.NoError(t, err)
		snd.send(body, u.ID+" "+title)
		time.Sleep(40 * time.Millisecond)
	}
	require.NoError(t, <-restarted, s.Logs())
	snd.wg.Wait()
	require.Empty(t, snd.failed, "notifications never answered 202 within 90 s")

	// Every change reaches the PSA, by psasync alone (no run is started).
	var lost []string
	insp := asynq.NewInspector(nb.n.RedisConnOpt())
	t.Cleanup(func() { _ = insp.Close() })
	settle := time.Now()
	lastLog := settle
	require.Eventually(t, func() bool {
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			t.Logf("%s after the burst, %d changes not in the PSA yet: %s", time.Since(settle).Round(time.Second), len(lost), describeQueue(insp, nb.n.Queues().Default))
		}
		lost = lost[:0]
		byUser := map[string]simenv.Contact{}
		for _, c := range env.PSA.Contacts(nb.company) {
			byUser[c.ExternalID] = c
		}
		for id, title := range want {
			if byUser[id].Title != title {
				lost = append(lost, id+" wants "+title+" has "+byUser[id].Title)
			}
		}
		return len(lost) == 0
	}, 45*time.Second, 100*time.Millisecond, "changes never reached the PSA: %v", lost)
	converged := time.Since(snd.killedAt)
	nb.waitIdle(t)

	contacts := env.PSA.Contacts(nb.company)
	byExt := map[string]int{}
	for _, c := range contacts {
		byExt[c.ExternalID]++
	}
	duplicates := len(contacts) - len(byExt)
	writes := env.PSA.Stats().Writes - writesBefore
	t.Logf("failover figures: notifications %d (POSTs %d: %d answered 202, %d refused and sent again), "+
		"killed at change %d, Sentinel failover after %s, first 202 after the kill after %s, PSA equal to M365 %s after the kill, "+
		"PSA writes %d for %d changed users, duplicates %d, lost changes %d, median 202 before the kill %s",
		changes, snd.posts, snd.accepted, snd.refused, killAt, failedOverAt.Sub(snd.killedAt).Round(time.Millisecond),
		snd.recovered.Sub(snd.killedAt).Round(time.Millisecond), converged.Round(time.Millisecond), writes, len(want), duplicates, len(lost), median(snd.calm))
	require.Equal(t, changes, snd.accepted, "every notification was answered 202 once")
	require.Zero(t, duplicates, "one contact per user")
	require.Equal(t, contactsBefore, len(contacts), "no contact was created: every user already had one")
	require.False(t, snd.recovered.IsZero(), "a notification sent after the kill was accepted")

	// The PSA equals Microsoft 365: a full dry run finds nothing to write.
	rep := nb.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.DryRun = true })
	require.True(t, rep.Success, "errors: %+v", rep.Errors)
	require.Zero(t, rep.Statistics.ContactsCreated+rep.Statistics.ContactsUpdated, "PSA differs from Microsoft 365: %+v", rep.Statistics)
}

// TestSentinelWebhookWaitsForAReplica shows the webhook's replica wait at
// work: with the only replica gone, a notification the master alone holds
// is answered 503 (Graph delivers again) instead of 202; once the replica
// is back, the same notification is accepted and reaches the PSA.
func TestSentinelWebhookWaitsForAReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.StartSentinel(t)
	env, cfg := haWorld(t, 10, config.Redis{Sentinel: config.RedisSentinel{MasterName: s.MasterName, Addrs: s.Addrs,
		ReplicaAckTimeout: 300 * time.Millisecond}}, s.External)
	nb := startNodeWith(t, env, cfg, nodeOpts{roles: app.RoleWebhook | app.RoleWorker, subscribe: true})
	require.True(t, nb.fullSync(t).Success)
	rec, _, err := nb.n.Subscriptions().ByTenant(ctx, nb.tenant)
	require.NoError(t, err)
	u := firstSyncable(t, nb.testBundle)
	body := notification(rec.ID, rec.ClientState, nb.tenant, u.ID)
	require.Equal(t, http.StatusAccepted, nb.postNotification(t, body), "a replica holds it")

	replica, err := s.KillReplica(ctx)
	require.NoError(t, err)
	_, err = env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Held By The Master Alone"})
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, nb.postNotification(t, body), "no replica acknowledged: no promise")

	require.NoError(t, s.Restart(ctx, replica))
	require.Eventually(t, func() bool { return nb.postNotification(t, body) == http.StatusAccepted }, 20*time.Second, 100*time.Millisecond,
		"accepted once the replica is back")
	nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return c.Title == "Held By The Master Alone" })
}
