package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/subscription"
)

// Subscription actions of `psasync subscriptions`.
const (
	SubscriptionsList   = "list"
	SubscriptionsEnsure = "ensure"
	SubscriptionsDelete = "delete"
)

// SubscriptionsOptions are the inputs of `psasync subscriptions ACTION`.
type SubscriptionsOptions struct {
	Source Source
	// Action is SubscriptionsList, SubscriptionsEnsure or SubscriptionsDelete.
	Action string
	// Tenant limits the action to one tenant (id or name); empty: all.
	Tenant string
	// JSON lists as JSON instead of a table.
	JSON bool
	// Stdout gets the list; Stderr logs and per-tenant failures.
	Stdout, Stderr io.Writer
}

// Subscriptions ensures or deletes the tenants' Graph subscriptions, then
// lists their status. A tenant that failed makes it return an error
// wrapping ErrRunFailed (the others are still handled). It is a process
// entry point (see Serve).
func Subscriptions(ctx context.Context, o SubscriptionsOptions) error {
	switch o.Action {
	case SubscriptionsList, SubscriptionsEnsure, SubscriptionsDelete:
	default:
		return badConfig(fmt.Errorf("unknown action %q: want list, ensure or delete", o.Action))
	}
	cfg, env, err := o.Source.open(ctx)
	if err != nil {
		return err
	}
	if env != nil {
		defer env.Close()
	}
	log := NewLogger(cfg.Log, o.Stderr)
	routeLibraryLogs(log)
	ao := Options{Logger: log}
	publicURL := cfg.Server.PublicURL
	if env != nil {
		ao.HTTPClient = env.HTTPClient
		// The simulator performs Graph's validation handshake: answer it.
		hook := startValidationHook()
		defer hook.Close()
		publicURL = hook.URL
	}
	// A config that cannot subscribe is refused before anything connects.
	if err := (subscription.Config{PublicURL: publicURL}).WithDefaults().Validate(); err != nil {
		return badConfig(err)
	}
	a, err := New(ctx, cfg, ao)
	if err != nil {
		return err
	}
	defer a.Close()
	// Every live tenant, the config's and the accepted (onboarded) ones, or
	// the one named.
	var only []config.Tenant
	if o.Tenant == "" {
		if only, err = a.liveTenants(ctx); err != nil {
			return unavailable(err)
		}
	} else {
		t, err := a.selectTenant(ctx, o.Tenant)
		if errors.Is(err, config.ErrUnknownTenant) {
			return badConfig(fmt.Errorf("--tenant: %w", err))
		}
		if err != nil {
			return unavailable(err)
		}
		only = []config.Tenant{t}
	}
	store := subscription.NewStore(a.rdb, cfg.Redis.Prefix())
	m, err := newManager(a, store, catchUpLater{log}, publicURL, nil)
	if err != nil {
		return err
	}
	var failed []error
	for _, t := range only {
		switch o.Action {
		case SubscriptionsEnsure:
			if !t.SyncEnabled() {
				fmt.Fprintf(o.Stderr, "%s: office365_sync_enabled is false; skipped\n", t.ID)
				continue
			}
			if _, err := m.Ensure(ctx, t.ID); err != nil {
				fmt.Fprintf(o.Stderr, "%s: %v\n", t.ID, err)
				failed = append(failed, fmt.Errorf("%s: %w", t.ID, err))
			}
		case SubscriptionsDelete:
			if err := m.Delete(ctx, t.ID); err != nil {
				fmt.Fprintf(o.Stderr, "%s: %v\n", t.ID, err)
				failed = append(failed, fmt.Errorf("%s: %w", t.ID, err))
			}
		}
	}
	ids := make([]string, 0, len(only))
	for _, t := range only {
		ids = append(ids, t.ID)
	}
	statuses, err := m.Statuses(ctx, ids)
	if err != nil {
		return unavailable(err)
	}
	if err := writeStatuses(o.Stdout, statuses, o.JSON); err != nil {
		return classify(err, ErrRunFailed)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %w", ErrRunFailed, errors.Join(failed...))
	}
	return nil
}

// writeStatuses prints the statuses as a table or as JSON. Status carries
// no clientState, so nothing secret is printed.
func writeStatuses(w io.Writer, statuses []subscription.Status, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(statuses)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSUBSCRIPTION\tEXPIRES\tLAST NOTIFICATION\tHEALTH\tERROR")
	for _, s := range statuses {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.TenantID, dash(s.SubscriptionID), when(s.Expiry), when(s.LastNotificationAt), s.Health, dash(s.ErrorCode+" "+s.LastError))
	}
	return tw.Flush()
}

// catchUpLater is the run queue of the subscriptions command, which runs
// no worker: a catch-up run the manager owes is left to the running
// service (its next check enqueues it).
type catchUpLater struct{ log logrus.FieldLogger }

func (c catchUpLater) EnqueueRun(_ context.Context, _, tenantID string, _ bool, reason string) error {
	c.log.WithField("tenant", tenantID).Infof("an incremental sync is due (%s); the running service's workers take it", reason)
	return nil
}

func dash(s string) string {
	if len(s) == 0 || s == " " {
		return "-"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
