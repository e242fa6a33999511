package subscription

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Schedule is when one tenant's runs happen without a notification.
type Schedule struct {
	// IncrementalEvery is the delta sync period (0: 15 minutes; negative:
	// off). Periods are aligned to multiples of it since the zero time
	// (UTC), so every replica computes the same ones.
	IncrementalEvery time.Duration
	// ReconcileAt is the local time of the nightly full reconcile, "HH:MM"
	// ("": 02:00; "off": none).
	ReconcileAt string
	// ReconcileWindow is how late a reconcile may still start when no
	// scheduler ran at ReconcileAt (a restart, an outage) (0: 6 hours).
	// Past it the day is skipped rather than running a full reconcile in
	// business hours; the next night catches up.
	ReconcileWindow time.Duration
	// ReconcileSpread is the length of the nightly window the reconciles of
	// all tenants are spread over (0: 3 hours, so 02:00-05:00 by default;
	// negative: none, every tenant starts at ReconcileAt). Each tenant's
	// start is ReconcileAt plus a fixed offset derived from its id
	// (ReconcileOffset), so the tenants of an MSP do not all start at once,
	// every replica computes the same start, and every tenant gets its slot
	// every night.
	ReconcileSpread time.Duration
	// Location is the tenant's time zone for ReconcileAt (nil: UTC).
	Location *time.Location
	// RenewEvery is how often the tenant's subscription is checked (and
	// renewed when due) (0 or negative: hourly).
	RenewEvery time.Duration
}

// ReconcileOff turns the nightly reconcile off.
const ReconcileOff = "off"

// DefaultReconcileSpread is Schedule.ReconcileSpread when unset: the
// nightly reconciles start between 02:00 and 05:00 local time.
const DefaultReconcileSpread = 3 * time.Hour

// ReconcileOffset is where in a spread of this length the tenant's nightly
// reconcile starts: a hash of its id (FNV-1a) in whole seconds, the same on
// every replica and every night, uniform over the tenants of an MSP.
func ReconcileOffset(tenantID string, spread time.Duration) time.Duration {
	secs := uint64(spread / time.Second)
	if secs == 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(tenantID))
	return time.Duration(h.Sum64()%secs) * time.Second
}

// reconcileDue finds the night whose reconcile of this tenant is due at
// now: its start (the night's ReconcileAt plus the tenant's offset) has
// passed and the night's window (ReconcileWindow from ReconcileAt) has not.
// It looks at tonight and last night, as a late spread crosses midnight.
func reconcileDue(tenantID string, sch Schedule, now time.Time) (localDate string, ok bool) {
	hour, minute, _ := parseClock(sch.ReconcileAt)
	local := now.In(sch.Location)
	offset := ReconcileOffset(tenantID, sch.ReconcileSpread)
	for _, back := range []int{0, -1} {
		d := local.AddDate(0, 0, back)
		start := time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, sch.Location)
		if !now.Before(start.Add(offset)) && now.Before(start.Add(sch.ReconcileWindow)) {
			return start.Format(time.DateOnly), true
		}
	}
	return "", false
}

// WithDefaults fills the zero fields.
func (s Schedule) WithDefaults() Schedule {
	s.IncrementalEvery = cmp.Or(s.IncrementalEvery, 15*time.Minute)
	s.ReconcileAt = cmp.Or(s.ReconcileAt, "02:00")
	s.ReconcileWindow = cmp.Or(s.ReconcileWindow, 6*time.Hour)
	switch {
	case s.ReconcileSpread == 0:
		s.ReconcileSpread = DefaultReconcileSpread
	case s.ReconcileSpread < 0:
		s.ReconcileSpread = 0
	}
	s.Location = cmp.Or(s.Location, time.UTC)
	if s.RenewEvery <= 0 {
		s.RenewEvery = time.Hour
	}
	return s
}

// Validate reports every problem of a defaulted schedule at once.
func (s Schedule) Validate() error {
	var errs []error
	if s.IncrementalEvery > 0 && s.IncrementalEvery < time.Minute {
		errs = append(errs, fmt.Errorf("incremental_every %s is shorter than 1m", s.IncrementalEvery))
	}
	if s.ReconcileAt != ReconcileOff {
		if _, _, err := parseClock(s.ReconcileAt); err != nil {
			errs = append(errs, err)
		}
	}
	if s.ReconcileWindow <= 0 || s.ReconcileWindow >= 24*time.Hour {
		errs = append(errs, fmt.Errorf("reconcile window %s must be positive and shorter than a day", s.ReconcileWindow))
	}
	if s.ReconcileSpread >= s.ReconcileWindow {
		errs = append(errs, fmt.Errorf("reconcile spread %s must be shorter than the reconcile window %s (the last tenant of the spread needs time to catch up)", s.ReconcileSpread, s.ReconcileWindow))
	}
	if s.RenewEvery > 0 && s.RenewEvery < time.Minute {
		errs = append(errs, fmt.Errorf("renew_every %s is shorter than 1m", s.RenewEvery))
	}
	return errors.Join(errs...)
}

// parseClock reads "HH:MM".
func parseClock(v string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, 0, fmt.Errorf("reconcile_at %q is not HH:MM or %q", v, ReconcileOff)
	}
	return t.Hour(), t.Minute(), nil
}

// ScheduledTenant is a tenant as the scheduler sees it.
type ScheduledTenant struct {
	ID string
	// Enabled is office365_sync_enabled; disabled tenants get nothing.
	Enabled  bool
	Schedule Schedule
}

// SubscriptionJobs enqueues subscription:ensure jobs. id is unique per
// tenant and period; an id that already exists is not an error (return
// nil), so replicas never double a check.
type SubscriptionJobs interface {
	EnqueueEnsure(ctx context.Context, id, tenantID, reason string) error
}

// ScheduledRetention is how long the queue must keep a scheduled task (in
// any state, completed included) under its id: long enough to cover the
// longest period, a local day of 25 hours (DST) for the reconcile, plus the
// run's own time. Enqueue scheduled runs and ensure jobs with
// asynq.Retention(ScheduledRetention): with less, a replica that starts (or
// ticks) after the task was deleted but within the same period enqueues the
// period's run a second time. Incremental runs alone need only twice their
// period; ensure jobs twice RenewEvery.
const ScheduledRetention = 26 * time.Hour

// Reasons the scheduler gives with what it enqueues.
const (
	ReasonScheduledIncremental = "scheduled incremental sync"
	ReasonNightlyReconcile     = "nightly reconcile"
	ReasonRenewalCheck         = "scheduled subscription check"
)

// IncrementalRunID is the id of a tenant's incremental run of the period
// starting at start.
func IncrementalRunID(tenantID string, start time.Time) string {
	return "incremental:" + tenantID + ":" + start.UTC().Format(time.RFC3339)
}

// ReconcileRunID is the id of a tenant's reconcile of a local date
// (YYYY-MM-DD in the tenant's zone).
func ReconcileRunID(tenantID, localDate string) string {
	return "reconcile:" + tenantID + ":" + localDate
}

// EnsureJobID is the id of a tenant's subscription check of the period
// starting at start.
func EnsureJobID(tenantID string, start time.Time) string {
	return "ensure:" + tenantID + ":" + start.UTC().Format(time.RFC3339)
}

// TenantsFunc returns the tenants to schedule; it is called on every tick,
// so a config reload takes effect without a restart.
type TenantsFunc func(ctx context.Context) ([]ScheduledTenant, error)

// SchedulerConfig tunes the scheduler; zero fields take the defaults.
type SchedulerConfig struct {
	// Interval is how often Run ticks (default 15s).
	Interval time.Duration
	// Clock gives the time for Run (default time.Now).
	Clock func() time.Time
	// Logger receives errors and what was enqueued (default: discard).
	Logger logrus.FieldLogger
}

// Scheduler enqueues every enabled tenant's incremental runs, nightly
// reconciles and subscription checks. It has no leader: every replica runs
// one, and because each run's id is derived from tenant and period and the
// queue refuses an id it holds, a period gets exactly one run however many
// replicas tick; a failed run never blocks the next period, whose id
// differs.
type Scheduler struct {
	runs    RunEnqueuer
	jobs    SubscriptionJobs
	tenants TenantsFunc
	cfg     SchedulerConfig

	mu   sync.Mutex
	sent map[string]string // tenant+kind -> id last enqueued (saves queue calls)
}

// NewScheduler builds a scheduler over the run queue, the subscription job
// queue and the tenant source.
func NewScheduler(runs RunEnqueuer, jobs SubscriptionJobs, tenants TenantsFunc, cfg SchedulerConfig) (*Scheduler, error) {
	if runs == nil || jobs == nil || tenants == nil {
		return nil, errors.New("subscription: NewScheduler needs a run enqueuer, a job enqueuer and a tenant source")
	}
	if cfg.Interval == 0 {
		cfg.Interval = 15 * time.Second
	}
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("subscription: scheduler interval %s must be positive", cfg.Interval)
	}
	cfg.Clock, cfg.Logger = clockAndLogger(cfg.Clock, cfg.Logger)
	return &Scheduler{runs: runs, jobs: jobs, tenants: tenants, cfg: cfg, sent: map[string]string{}}, nil
}

// Tick enqueues, for every enabled tenant, what is due at now: the
// incremental run of the current period, today's reconcile once its local
// time has passed (late, within ReconcileWindow, if no scheduler ran at
// that time), and the
// subscription check of the current RenewEvery period. Errors of one
// tenant do not stop the others; they are returned joined.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	tenants, err := s.tenants(ctx)
	if err != nil {
		return fmt.Errorf("subscription: scheduler: list tenants: %w", err)
	}
	var errs []error
	live := map[string]bool{}
	for _, t := range tenants {
		if !t.Enabled || t.ID == "" {
			continue
		}
		live[t.ID] = true
		sch := t.Schedule.WithDefaults()
		if err := sch.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("subscription: scheduler: tenant %s: %w", t.ID, err))
			continue
		}
		if sch.IncrementalEvery > 0 {
			id := IncrementalRunID(t.ID, now.Truncate(sch.IncrementalEvery))
			errs = append(errs, s.once(t.ID, "incremental", id, func() error {
				return s.runs.EnqueueRun(ctx, id, t.ID, false, ReasonScheduledIncremental)
			}))
		}
		if sch.ReconcileAt != ReconcileOff {
			if date, due := reconcileDue(t.ID, sch, now); due {
				id := ReconcileRunID(t.ID, date)
				errs = append(errs, s.once(t.ID, "reconcile", id, func() error {
					return s.runs.EnqueueRun(ctx, id, t.ID, true, ReasonNightlyReconcile)
				}))
			}
		}
		id := EnsureJobID(t.ID, now.Truncate(sch.RenewEvery))
		errs = append(errs, s.once(t.ID, "ensure", id, func() error {
			return s.jobs.EnqueueEnsure(ctx, id, t.ID, ReasonRenewalCheck)
		}))
	}
	s.forget(live)
	return errors.Join(errs...)
}

// once enqueues id unless this scheduler already did; the queue's id check
// is what keeps replicas apart, this only spares it repeated calls.
func (s *Scheduler) once(tenantID, kind, id string, enqueue func() error) error {
	key := tenantID + "\x00" + kind
	s.mu.Lock()
	done := s.sent[key] == id
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := enqueue(); err != nil {
		return fmt.Errorf("subscription: scheduler: enqueue %s: %w", id, err)
	}
	s.mu.Lock()
	s.sent[key] = id
	s.mu.Unlock()
	s.cfg.Logger.WithFields(logrus.Fields{"tenant": tenantID, "id": id}).Debug("scheduled")
	return nil
}

// forget drops what was remembered for tenants no longer scheduled.
func (s *Scheduler) forget(live map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.sent {
		if tenant, _, _ := strings.Cut(key, "\x00"); !live[tenant] {
			delete(s.sent, key)
		}
	}
}

// Run ticks at once and then every Interval until ctx ends (it then
// returns nil). Tick errors are logged; the next tick tries again.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx, s.cfg.Clock()); err != nil && ctx.Err() == nil {
			s.cfg.Logger.WithError(err).Warn("scheduler tick failed; the next tick tries again")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
