package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// defaultConcurrency is how many jobs a worker process runs at once when
// worker.concurrency is unset: 20, the size of a Graph $batch, so that the
// user reads of a burst for one tenant fill whole batches.
const defaultConcurrency = 20

// Role is a part of psasync a process runs; roles combine with |.
type Role int

// The roles. RoleServe is all three in one process.
const (
	RoleWebhook Role = 1 << iota
	RoleWorker
	RoleScheduler
	RoleServe = RoleWebhook | RoleWorker | RoleScheduler
)

// String is the command that runs the role.
func (r Role) String() string {
	switch r {
	case RoleServe:
		return "serve"
	case RoleWebhook:
		return "webhook"
	case RoleWorker:
		return "worker"
	case RoleScheduler:
		return "scheduler"
	}
	return fmt.Sprintf("roles(%d)", int(r))
}

// NodeOptions choose what a Node runs and how.
type NodeOptions struct {
	// Roles are the roles to run (default RoleServe).
	Roles Role
	// Listen is the webhook's HOST:PORT (default server.listen, else
	// 127.0.0.1:8080); 127.0.0.1:0 picks a free port.
	Listen string
	// Concurrency is how many jobs this process runs at once (default
	// worker.concurrency, else defaultConcurrency).
	Concurrency int
	// MetricsListen is where a process without the webhook role serves
	// /metrics, /healthz and /readyz (default worker.metrics_listen; empty:
	// none); 127.0.0.1:0 picks a free port.
	MetricsListen string
	// NoScheduler leaves the scheduler out even when Roles has it (tests
	// drive the schedule themselves, see NewScheduler); the consent checks
	// of onboarded tenants still run.
	NoScheduler bool
	// ConsentCheckEvery is how often the scheduler role re-checks the
	// accepted tenants' consent (default partner.consent_check_interval);
	// tests shorten it below the config's one-minute floor.
	ConsentCheckEvery time.Duration
	// Clock replaces time.Now for subscription upkeep (a simulated week).
	Clock func() time.Time
	// Logger receives every log line (default from the config).
	Logger *logrus.Logger
	// World is the simulated world the node runs against (demo, tests):
	// its HTTP client trusts the simulators, a random API token is made
	// when none is configured, and the webhook's loopback URL becomes
	// server.public_url when none is set.
	World *simenv.Env
	// Demo runs the demo on World: subscribe, a first full sync, and a
	// simulated admin changing a user every DemoChangeEvery (0: never).
	Demo            bool
	DemoChangeEvery time.Duration
}

// Node is one running psasync process: the parts its roles need. NewNode
// builds it and opens its listener; Run runs the roles.
type Node struct {
	opts    NodeOptions
	cfg     *config.Config
	log     *logrus.Logger
	app     *App
	asynq   asynq.RedisConnOpt
	client  *asynq.Client
	queue   *worker.Queue
	queues  worker.Queues
	ingest  *worker.Ingest
	subs    *subscription.Store
	manager *subscription.Manager
	metrics *worker.Metrics
	reg     *registry
	srv     *http.Server
	token   string
	listen  string
	// statusLn and statusSrv serve /metrics and the probes of a process
	// without the webhook role (worker.metrics_listen).
	statusLn  net.Listener
	statusSrv *http.Server
	baseURL   string
	ln        net.Listener
	closers   []func()
}

// NewNode wires a process's roles on cfg and opens its listener. Errors
// wrap ErrBadConfig (the config or flags cannot work) or ErrUnavailable
// (Redis does not answer, the listen address is taken).
func NewNode(ctx context.Context, cfg *config.Config, o NodeOptions) (*Node, error) {
	if o.Roles == 0 {
		o.Roles = RoleServe
	}
	if o.Logger == nil {
		o.Logger = NewLogger(cfg.Log, nil)
	}
	if o.Demo && o.World == nil {
		return nil, badConfig(errors.New("the demo needs a simulated world"))
	}
	n := &Node{opts: o, cfg: cfg, log: o.Logger}
	n.listen = firstNonEmpty(o.Listen, cfg.Server.Listen, "127.0.0.1:8080")
	if o.Roles&RoleWebhook != 0 {
		if _, _, err := net.SplitHostPort(n.listen); err != nil {
			return nil, badConfig(fmt.Errorf("listen address %q: %w", n.listen, err))
		}
	}
	n.reg = newRegistry()
	var err error
	if n.metrics, err = worker.NewMetrics(n.reg); err != nil {
		return nil, err
	}
	ao := Options{Logger: n.log, Metrics: n.metrics}
	if o.World != nil {
		ao.HTTPClient = o.World.HTTPClient
	}
	if n.app, err = New(ctx, cfg, ao); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.app.Close)
	n.asynq = n.app.asynqOpt
	n.client = asynq.NewClient(n.asynq)
	n.closers = append(n.closers, func() { _ = n.client.Close() })
	n.queues = worker.PrefixedQueues(cfg.Redis.QueuePrefix)
	prefix := cfg.Redis.Prefix()
	n.queue = worker.NewQueue(n.client, n.app.engine.Store(), cfg.Worker.CoalesceWindow).WithQueues(n.queues)
	n.ingest = worker.NewIngest(n.app.engine.Store(), n.queue, n.log).WithReplicaAcks(cfg.Redis.EffectiveReplicaAcks())
	n.subs = subscription.NewStore(n.app.rdb, prefix)
	n.token = cfg.Server.APIToken
	if o.World != nil && n.token == "" {
		n.token = randomToken()
	}
	if o.Roles&RoleWebhook != 0 {
		n.ln, err = net.Listen("tcp", n.listen)
		if err != nil {
			n.Close()
			return nil, unavailable(fmt.Errorf("listen on %s: %w", n.listen, err))
		}
		n.closers = append(n.closers, func() { _ = n.ln.Close() })
		n.baseURL = loopbackURL(n.ln)
	}
	if err := n.openStatusListener(firstNonEmpty(o.MetricsListen, cfg.Worker.MetricsListen)); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.setupSubscriptions(); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.registerNodeMetrics(); err != nil {
		n.Close()
		return nil, err
	}
	if o.Roles&RoleWebhook != 0 {
		if n.srv, err = n.httpServer(); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

// Close releases what NewNode opened.
func (n *Node) Close() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
	n.closers = nil
}

// Run runs the node's roles until ctx ends (nil) or one of them fails.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	roles := n.opts.Roles
	if roles&RoleWebhook != 0 {
		start("webhook", func(ctx context.Context) error { return serveHTTP(ctx, n.srv, n.ln, n.log) })
	}
	if n.statusLn != nil {
		start("status", func(ctx context.Context) error { return serveHTTP(ctx, n.statusSrv, n.statusLn, n.log) })
	}
	if roles&(RoleWebhook|RoleWorker) != 0 {
		// Every webhook and worker process also dispatches accepted
		// notifications from the ingest stream into per-user jobs.
		start("dispatcher", func(ctx context.Context) error { return n.ingest.Run(ctx, consumerName(roles)) })
	}
	if roles&RoleWorker != 0 {
		conc := firstPositive(n.opts.Concurrency, n.cfg.Worker.Concurrency, defaultConcurrency)
		start("worker", func(ctx context.Context) error { return n.runWorkers(ctx, conc) })
	}
	if roles&RoleScheduler != 0 && !n.opts.NoScheduler {
		start("scheduler", n.runScheduler)
	}
	if every := n.consentCheckEvery(); roles&RoleScheduler != 0 && n.cfg.Partner.Enabled() && every > 0 {
		start("consent checks", func(ctx context.Context) error { return n.runConsentChecks(ctx, every) })
	}
	if n.opts.Demo {
		start("demo", n.runDemo)
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// runWorkers processes jobs until ctx ends; asynq then stops taking new
// ones, waits for running ones and puts unfinished ones back in the queue.
// Two asynq servers share the handlers: one of concurrency slots for the
// subscription and per-user jobs (critical, default), and one of
// worker.max_tenant_runs slots for runs (low), so that however many
// tenants' nightly reconciles are due, this process runs a bounded number
// of them at once (its memory follows that bound) and they never take the
// slots of per-user jobs.
func (n *Node) runWorkers(ctx context.Context, concurrency int) error {
	mux := asynq.NewServeMux()
	mux.Handle(worker.TypeUserSync, &worker.UserSyncHandler{Engine: n.app.engine, Log: n.log, Observe: n.metrics.ObserveOutcome})
	mux.Handle(worker.TypeTenantSync, &worker.TenantSyncHandler{Engine: n.app.engine, Log: n.log, Observe: n.metrics.ObserveReport})
	n.registerSubscriptionHandlers(mux)
	jobsCfg := n.workerServerConfig(concurrency) // the queues' weights (worker.Queues.Weights), without the runs'
	delete(jobsCfg.Queues, n.queues.Low)
	runsCfg := n.workerServerConfig(n.cfg.Worker.TenantRuns())
	runsCfg.Queues = map[string]int{n.queues.Low: 1}
	var started []*asynq.Server
	defer func() {
		for _, srv := range started {
			srv.Shutdown()
		}
	}()
	for _, c := range []asynq.Config{jobsCfg, runsCfg} {
		srv := asynq.NewServer(n.asynq, c)
		if err := srv.Start(mux); err != nil {
			return err
		}
		started = append(started, srv)
	}
	<-ctx.Done()
	n.log.Info("shutting down workers: finishing running jobs")
	return nil
}

// BaseURL is the webhook's http URL as seen from this host ("" without
// the webhook role).
func (n *Node) BaseURL() string { return n.baseURL }

// App is the node's shared wiring (engine, PSA client, Redis).
func (n *Node) App() *App { return n.app }

// Engine is the node's sync engine.
func (n *Node) Engine() *worker.Engine { return n.app.engine }

// Queue enqueues jobs on the node's queues.
func (n *Node) Queue() *worker.Queue { return n.queue }

// Queues are the node's queue names (with the configured prefix).
func (n *Node) Queues() worker.Queues { return n.queues }

// RedisConnOpt is the node's Redis as asynq sees it (for an Inspector).
func (n *Node) RedisConnOpt() asynq.RedisConnOpt { return n.asynq }

// Subscriptions is the store of the tenants' subscription records.
func (n *Node) Subscriptions() *subscription.Store { return n.subs }

// Manager is the subscription manager; nil when server.public_url is not
// set (the node then manages no subscription).
func (n *Node) Manager() *subscription.Manager { return n.manager }

// consumerName names this process in the ingest stream's consumer group:
// unique per process; what a dead process had read is reclaimed by the
// others after the stream's idle threshold.
func consumerName(r Role) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "psasync"
	}
	return fmt.Sprintf("%s-%s-%d", host, r, os.Getpid())
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
