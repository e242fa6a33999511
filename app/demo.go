package app

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// demoTitles are what the simulated tenant's users get promoted to.
var demoTitles = []string{"Team Lead", "Senior Analyst", "Project Manager", "Director", "Specialist", "Coordinator"}

// runDemo subscribes to the simulated tenant (the simulator performs the
// validation handshake against our webhook), starts a first full sync, and
// then keeps changing a user every few seconds so the change shows up in the
// PSA, the runs API and the queues UI.
func (n *Node) runDemo(ctx context.Context) error {
	env := n.opts.World
	tenant := env.Tenants[0]
	if n.manager == nil {
		return fmt.Errorf("demo: no subscription manager (the demo needs the webhook role)")
	}
	if _, err := n.manager.Ensure(ctx, tenant); err != nil {
		return fmt.Errorf("demo: subscribe to the simulated tenant: %w", err)
	}
	id, err := n.queue.EnqueueRun(ctx, "", worker.RunInputs{Tenant: tenant, SyncMode: worker.ModeFull, SkipDisabledUsers: true, UpdateExisting: true})
	if err != nil {
		return fmt.Errorf("demo: start the first full sync: %w", err)
	}
	n.log.WithField("run", id).Infof("demo: first full sync started; watch it at %s/api/v1/runs/%s", n.baseURL, id)
	if n.opts.DemoChangeEvery <= 0 {
		<-ctx.Done()
		return nil
	}
	var users []string
	for _, u := range env.Graph.Users(tenant) {
		if syncableDemoUser(u.UserPrincipalName, u.UserType, u.AccountEnabled) {
			users = append(users, u.ID)
		}
	}
	if len(users) == 0 {
		<-ctx.Done()
		return nil
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	t := time.NewTicker(n.opts.DemoChangeEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		uid := users[rng.IntN(len(users))]
		props := map[string]any{"jobTitle": demoTitles[rng.IntN(len(demoTitles))]}
		if i%3 == 1 {
			props["businessPhones"] = []string{fmt.Sprintf("+1 425 555 %04d", rng.IntN(10000))}
		}
		u, err := env.Graph.UpdateUser(tenant, uid, props)
		if err != nil {
			n.log.WithError(err).Warn("demo: could not change a simulated user")
			continue
		}
		n.log.WithFields(logrus.Fields{"user": u.UserPrincipalName, "change": props}).Info("demo: changed a user in Microsoft 365 (simulated); Graph will notify psasync")
	}
}

// syncableDemoUser picks the users the demo changes: ones in the default
// scope, so each change reaches the PSA.
func syncableDemoUser(upn, userType string, enabled *bool) bool {
	local := strings.ToLower(strings.SplitN(upn, "@", 2)[0])
	return (enabled == nil || *enabled) && userType != "Guest" && !strings.HasPrefix(local, "svc-") && !strings.HasPrefix(local, "admin")
}

// startValidationHook answers Graph's validation handshake for
// `subscriptions --demo`, which runs without the webhook.
func startValidationHook() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(tok))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
}

// DemoCustomers is how many customer tenants the demo's simulated MSP
// has, to onboard by hand with psasync tenants or /api/v1/tenants.
const DemoCustomers = 12

// startWorld starts the demo's simulated world: the Graph simulator and a
// PSA simulator seeded with matching, stale, duplicated and orphaned
// contacts, and a simulated MSP of DemoCustomers customers (see
// simenv.Options.Customers); its config uses an embedded Redis.
func startWorld(ctx context.Context, psaType string, users int) (*simenv.Env, error) {
	o := simenv.Options{PSA: psaType, Users: users, SeedPSA: true, Customers: DemoCustomers, CustomerUsers: 5}
	env, err := simenv.Start(ctx, o)
	if err != nil {
		return nil, badConfig(fmt.Errorf("demo: %w", err))
	}
	return env, nil
}
