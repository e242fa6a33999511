// Package app wires psasync's roles (webhook, worker, scheduler, one-shot
// sync, subscription upkeep) from a *config.Config: Redis, the PSA client
// behind its shared quota, each tenant's Graph client, the sync engine, the
// queues, the HTTP server and the subscription manager. cmd/psasync parses
// the command line and calls the entry points here (Serve, Sync,
// Subscriptions); the end-to-end tests build the same wiring through New
// and NewNode. The package holds no business rule: each rule lives in the
// package that owns its concept, and app only connects them.
package app

import (
	"context"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// App is what every role needs, built from one config: Redis, the PSA
// client, the tenants' Graph clients and the sync engine.
type App struct {
	cfg *config.Config
	log *logrus.Logger
	rdb redis.UniversalClient
	// asynqOpt reaches the same Redis as rdb, for asynq's clients,
	// servers, inspectors and asynqmon.
	asynqOpt asynq.RedisConnOpt
	// redisWatch notes Redis failures, for the jobs' retry delay.
	redisWatch redisWatch
	psa        psa.Client
	tenants    *tenantSet
	engine     *worker.Engine
	onboard    *onboarding.Service
	ledger     *ledger.Ledger
	metrics    *worker.Metrics
	closers    []func()
}

// Options are New's optional dependencies.
type Options struct {
	// Logger receives every log line (default: logrus JSON on stderr).
	Logger *logrus.Logger
	// HTTPClient, when set, makes every outbound call (the simulators'
	// worlds pass one that trusts their certificates).
	HTTPClient *http.Client
	// Metrics, when set, counts every PSA and Graph request.
	Metrics *worker.Metrics
	// Progress, when set, sees each run's progress (psasync sync shows it).
	Progress worker.ProgressFunc
	// TuneEngine, when set, changes the engine's config from the file's
	// (benchmarks compare settings in one run).
	TuneEngine func(*worker.Config)
}

// New connects to Redis (or starts an embedded one when redis.addr is
// empty) and builds the PSA client, the tenants and the engine. Its errors
// wrap ErrBadConfig when the config cannot work, and ErrUnavailable when
// Redis does not answer.
func New(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = NewLogger(cfg.Log, nil)
	}
	a := &App{cfg: cfg, log: o.Logger, metrics: o.Metrics}
	if err := a.openRedis(ctx); err != nil {
		a.Close()
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	var err error
	a.psa, err = newPSAClient(cfg.PSA, instrumented(hc, o.Metrics, "psa"), a.log)
	if err != nil {
		a.Close()
		return nil, badConfig(err)
	}
	if q := cfg.EffectiveQuota(); q.Limited() {
		// One budget for every replica: the quota lives in Redis.
		a.psa = quota.Wrap(a.psa, a.rdb, q, quota.WithName(cfg.PSA.Type), quota.WithPageSize(psaPageSize(cfg.PSA)), quota.WithLogger(a.log))
	}
	mapper, err := mapping.New(cfg.Mapping)
	if err != nil {
		a.Close()
		return nil, badConfig(err)
	}
	a.tenants = &tenantSet{cfg: cfg, log: a.log, http: hc, metrics: o.Metrics, clients: map[string]*graph.Client{}}
	a.ledger = newLedger(a.rdb, cfg)
	store := worker.NewStore(a.rdb, cfg.Redis.Prefix())
	ec := worker.Config{
		Concurrency: cfg.Sync.Concurrency, DeactivationGuard: cfg.Sync.DeactivationGuard,
		DeactivationGuardMin: cfg.Sync.DeactivationGuardMin, MaxWait: cfg.Sync.MaxWait,
		Progress: o.Progress, Ledger: a.ledger, QuarantineThreshold: cfg.Ledger.QuarantineThreshold,
	}
	subs := subscription.NewStore(a.rdb, cfg.Redis.Prefix())
	ec.SubscriptionOf = func(ctx context.Context, tenant string) string {
		rec, ok, err := subs.ByTenant(ctx, tenant)
		if err != nil || !ok {
			return ""
		}
		return rec.ID
	}
	if o.TuneEngine != nil {
		o.TuneEngine(&ec)
	}
	a.engine = worker.NewEngine(a.psa, mapper, store, a.tenants, ec, a.log)
	a.newOnboarding()
	return a, nil
}

// Close releases what New opened, newest first.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Engine is the sync engine; tests run syncs on it directly.
func (a *App) Engine() *worker.Engine { return a.engine }

// PSA is the PSA client the engine writes through (behind the quota when
// one is in force), so benchmarks can read its quota statistics.
func (a *App) PSA() psa.Client { return a.psa }

// Redis is the Redis client every store of this App uses.
func (a *App) Redis() redis.UniversalClient { return a.rdb }

// Config is the config the App was built from.
func (a *App) Config() *config.Config { return a.cfg }

// instrumented returns hc with its requests counted under upstream.
func instrumented(hc *http.Client, m *worker.Metrics, upstream string) *http.Client {
	if m == nil {
		return hc
	}
	c := *hc
	c.Transport = m.Transport(upstream, hc.Transport)
	return &c
}
