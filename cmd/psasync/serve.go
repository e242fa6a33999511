package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

type role int

const (
	roleWebhook role = 1 << iota
	roleWorker
	roleScheduler
)

func (r role) name() string {
	switch r {
	case roleWebhook | roleWorker | roleScheduler:
		return "serve"
	case roleWebhook:
		return "webhook"
	case roleWorker:
		return "worker"
	}
	return "scheduler"
}

// serveFlags are the flags every long-running role takes.
type serveFlags struct {
	cfgPath, listen, psaType string
	demo                     bool
	concurrency              int
	demoUsers                int
	demoChangeEvery          time.Duration
	// noScheduler leaves the scheduler out of serve (tests drive runs).
	noScheduler bool
	// clock replaces time.Now for subscription upkeep (tests simulate weeks).
	clock func() time.Time
}

func defaultConfigPath() string {
	if p := os.Getenv("PSASYNC_CONFIG"); p != "" {
		return p
	}
	return "psasync.yaml"
}

func roleCommand(r role) func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		fs := flag.NewFlagSet("psasync "+r.name(), flag.ContinueOnError)
		fs.SetOutput(stderr)
		var f serveFlags
		fs.StringVar(&f.cfgPath, "config", defaultConfigPath(), "config file ($PSASYNC_CONFIG)")
		fs.BoolVar(&f.demo, "demo", false, "run against in-process simulators and an embedded Redis")
		fs.StringVar(&f.psaType, "psa", config.PSAConnectWise, "with --demo: PSA to simulate (connectwise, autotask, halopsa)")
		if r&roleWebhook != 0 {
			fs.StringVar(&f.listen, "listen", "", "HOST:PORT to listen on (default server.listen, else 127.0.0.1:8080)")
		}
		if r&roleWorker != 0 {
			fs.IntVar(&f.concurrency, "concurrency", 0, "jobs run at once by this process (default worker.concurrency, else 10)")
		}
		fs.IntVar(&f.demoUsers, "demo-users", 150, "with --demo: users in the simulated tenant")
		fs.DurationVar(&f.demoChangeEvery, "demo-change-every", 15*time.Second, "with --demo: how often the simulated tenant changes a user (0 = never)")
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitBadArgs
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "psasync %s: unexpected argument %q\n", r.name(), fs.Arg(0))
			return exitBadArgs
		}
		if f.demo && r != roleWebhook|roleWorker|roleScheduler {
			fmt.Fprintf(stderr, "psasync %s: --demo runs every role in one process; use psasync serve --demo\n", r.name())
			return exitBadArgs
		}
		if err := runRoles(ctx, r, f, stdout, stderr); err != nil {
			var bad *badConfigError
			fmt.Fprintf(stderr, "psasync %s: %v\n", r.name(), err)
			if errors.As(err, &bad) {
				return exitBadArgs
			}
			return exitFailed
		}
		return exitOK
	}
}

// badConfigError marks a failure caused by flags or config.
type badConfigError struct{ err error }

func (e *badConfigError) Error() string { return e.err.Error() }
func (e *badConfigError) Unwrap() error { return e.err }

// node is one running psasync process: the parts its roles need.
type node struct {
	role    role
	cfg     *config.Config
	log     *logrus.Logger
	app     *app
	demo    *demoEnv
	asynq   asynq.RedisConnOpt
	client  *asynq.Client
	queue   *worker.Queue
	queues  worker.Queues
	ingest  *worker.Ingest
	subs    *subscription.Store
	manager *subscription.Manager
	metrics *worker.Metrics
	reg     *prometheus.Registry
	token   string
	listen  string
	baseURL string
	ln      net.Listener
	closers []func()
}

func runRoles(ctx context.Context, r role, f serveFlags, stdout, stderr io.Writer) error {
	var (
		cfg  *config.Config
		demo *demoEnv
		err  error
	)
	if f.demo {
		demo, err = startDemo(ctx, f.psaType, demoOptions{users: f.demoUsers})
		if err != nil {
			return &badConfigError{err}
		}
		defer demo.Close()
		cfg = demo.cfg
		cfg.Log.Format = "text"
	} else if cfg, err = config.Load(f.cfgPath); err != nil {
		return &badConfigError{err}
	}
	log := newLogger(cfg.Log, os.Stderr)
	if w, ok := stderr.(*os.File); ok {
		log.Out = w
	} else {
		log.Out = stderr
	}
	n, err := newNode(ctx, r, f, cfg, demo, log)
	if err != nil {
		return err
	}
	defer n.Close()
	n.announce(stdout)
	return n.run(ctx, f)
}

// newNode wires a process's roles and opens its listener; run starts them.
func newNode(ctx context.Context, r role, f serveFlags, cfg *config.Config, demo *demoEnv, log *logrus.Logger) (*node, error) {
	n := &node{role: r, cfg: cfg, demo: demo, log: log}
	var err error
	n.listen = firstNonEmpty(f.listen, n.cfg.Server.Listen, "127.0.0.1:8080")
	n.reg = prometheus.NewRegistry()
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if n.metrics, err = worker.NewMetrics(n.reg); err != nil {
		return nil, err
	}
	n.app, err = buildWith(ctx, n.cfg, n.log, n.demo.httpClient(), n.metrics)
	if err != nil {
		return nil, &badConfigError{err}
	}
	n.closers = append(n.closers, n.app.Close)
	n.asynq = asynq.RedisClientOpt{Addr: n.app.redisOp.Addrs[0], Username: n.app.redisOp.Username, Password: n.app.redisOp.Password, DB: n.app.redisOp.DB}
	n.client = asynq.NewClient(n.asynq)
	n.closers = append(n.closers, func() { _ = n.client.Close() })
	n.queues = worker.PrefixedQueues(n.cfg.Redis.QueuePrefix)
	n.queue = worker.NewQueue(n.client, n.app.rdb, n.cfg.Redis.KeyPrefix, n.cfg.Worker.CoalesceWindow).WithQueues(n.queues)
	n.ingest = worker.NewIngest(n.app.rdb, n.queue, n.cfg.Redis.KeyPrefix, n.log)
	n.subs = subscription.NewStore(n.app.rdb, n.cfg.Redis.KeyPrefix)
	n.token = n.cfg.Server.APIToken
	if demo != nil && n.token == "" {
		n.token = randomToken()
	}
	if r&roleWebhook != 0 {
		n.ln, err = net.Listen("tcp", n.listen)
		if err != nil {
			n.Close()
			return nil, &badConfigError{fmt.Errorf("--listen %s: %w", n.listen, err)}
		}
		n.closers = append(n.closers, func() { _ = n.ln.Close() })
		n.baseURL = loopbackURL(n.ln)
	}
	if err := n.setupSubscriptions(f); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close releases what newNode opened.
func (n *node) Close() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
	n.closers = nil
}

// run runs the node's roles until ctx ends or one of them fails.
func (n *node) run(ctx context.Context, f serveFlags) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
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
	if n.role&roleWebhook != 0 {
		srv, err := n.httpServer()
		if err != nil {
			return err
		}
		start("webhook", func(ctx context.Context) error { return serveHTTP(ctx, srv, n.ln, n.log) })
	}
	if n.role&(roleWebhook|roleWorker) != 0 {
		// Every webhook and worker process also dispatches accepted
		// notifications from the ingest stream into per-user jobs.
		start("dispatcher", func(ctx context.Context) error { return n.ingest.Run(ctx, consumerName(n.role)) })
	}
	if n.role&roleWorker != 0 {
		conc := firstPositive(f.concurrency, n.cfg.Worker.Concurrency, 10)
		start("worker", func(ctx context.Context) error { return n.runWorkers(ctx, conc) })
	}
	if n.role&roleScheduler != 0 && !f.noScheduler {
		start("scheduler", n.runScheduler)
	}
	if f.demo {
		start("demo", func(ctx context.Context) error { return n.runDemo(ctx, f) })
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// httpServer builds the gin server with the webhook, the API, health,
// metrics and the asynq UI.
func (n *node) httpServer() (*http.Server, error) {
	var mon http.Handler
	mc := n.cfg.Server.Monitoring
	if mc.Enabled == nil || *mc.Enabled {
		mon = asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: n.asynq, ReadOnly: mc.ReadOnly,
			PayloadFormatter: asynqmon.PayloadFormatterFunc(func(_ string, p []byte) string { return string(p) })})
	}
	var basic *webhook.BasicAuth
	if mc.BasicAuthUser != "" {
		basic = &webhook.BasicAuth{User: mc.BasicAuthUser, Password: mc.BasicAuthPassword}
	}
	inspector := asynq.NewInspector(n.asynq)
	if err := n.reg.Register(metrics.NewQueueMetricsCollector(inspector)); err != nil {
		return nil, err
	}
	if n.token == "" {
		n.log.Warn("server.api_token is not set: /api/v1 is disabled and /monitoring needs basic auth")
	}
	h, err := webhook.New(webhook.Config{
		Lookup:              newSubscriptionLookup(n.subs),
		Enqueuer:            newEnqueuer(n),
		Runs:                &runs{n: n},
		APIToken:            n.token,
		Monitoring:          mon,
		MonitoringBasicAuth: basic,
		Ready:               func(ctx context.Context) error { return n.app.rdb.Ping(ctx).Err() },
		Metrics:             n.reg,
		Registerer:          n.reg,
		MaxBodyBytes:        n.cfg.Server.MaxBodyBytes,
		Logger:              n.log,
	})
	if err != nil {
		return nil, &badConfigError{err}
	}
	return &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}, nil
}

// serveHTTP serves until ctx ends, then stops accepting and lets requests
// in flight finish.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener, log logrus.FieldLogger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: no new requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// runWorkers processes jobs until ctx ends; asynq then stops taking new
// ones, waits for running ones and puts unfinished ones back in the queue.
func (n *node) runWorkers(ctx context.Context, concurrency int) error {
	srv := asynq.NewServer(n.asynq, workerServerConfig(concurrency, asynqLogger{n.log}, n.queues))
	mux := asynq.NewServeMux()
	mux.Handle(worker.TypeUserSync, &worker.UserSyncHandler{Engine: n.app.engine, Log: n.log, Observe: n.metrics.ObserveOutcome})
	mux.Handle(worker.TypeTenantSync, &worker.TenantSyncHandler{Engine: n.app.engine, Log: n.log, Observe: n.metrics.ObserveReport})
	n.registerSubscriptionHandlers(mux)
	if err := srv.Start(mux); err != nil {
		return err
	}
	<-ctx.Done()
	n.log.Info("shutting down workers: finishing running jobs")
	srv.Shutdown()
	return nil
}

// announce prints where to look and how to authenticate.
func (n *node) announce(w io.Writer) {
	if n.role&roleWebhook == 0 {
		n.log.WithField("role", n.role.name()).Info("psasync started")
		return
	}
	auth := "Authorization: Bearer <server.api_token>"
	if n.demo != nil {
		auth = "Authorization: Bearer " + n.token
	}
	b := n.baseURL
	fmt.Fprintf(w, "psasync %s listening on %s\n", n.role.name(), n.listen)
	fmt.Fprintf(w, "  health:      %s/healthz  %s/readyz\n", b, b)
	fmt.Fprintf(w, "  metrics:     %s/metrics\n", b)
	fmt.Fprintf(w, "  webhook:     %s/webhook/graph  (Graph posts to <server.public_url>/webhook/graph; public URL: %s)\n", b, firstNonEmpty(n.cfg.Server.PublicURL, "not set"))
	fmt.Fprintf(w, "  runs API:    %s/api/v1/runs  (header %s)\n", b, auth)
	fmt.Fprintf(w, "  start a run: curl -X POST -H '%s' -d '{\"sync_mode\":\"full\",\"dry_run\":true}' %s/api/v1/sync\n", auth, b)
	fmt.Fprintf(w, "  queues UI:   %s/monitoring/  (bearer token, or a browser login with any user name and the token as password%s)\n", b, basicHint(n.cfg))
}

func basicHint(c *config.Config) string {
	if c.Server.Monitoring.BasicAuthUser != "" {
		return ", or basic auth " + c.Server.Monitoring.BasicAuthUser + " / <server.monitoring.basic_auth_password>"
	}
	return ""
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// asynqLogger routes asynq's own log lines to logrus.
type asynqLogger struct{ l logrus.FieldLogger }

func (a asynqLogger) Debug(args ...any) { a.l.WithField("component", "asynq").Debug(args...) }
func (a asynqLogger) Info(args ...any)  { a.l.WithField("component", "asynq").Info(args...) }
func (a asynqLogger) Warn(args ...any)  { a.l.WithField("component", "asynq").Warn(args...) }
func (a asynqLogger) Error(args ...any) { a.l.WithField("component", "asynq").Error(args...) }
func (a asynqLogger) Fatal(args ...any) { a.l.WithField("component", "asynq").Error(args...) }

// consumerName names this process in the ingest stream's consumer group:
// unique per process; what a dead process had read is reclaimed by the
// others after the stream's idle threshold.
func consumerName(r role) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "psasync"
	}
	return fmt.Sprintf("%s-%s-%d", host, r.name(), os.Getpid())
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}
