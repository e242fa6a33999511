package app

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
)

// Source is where a command's config comes from: a file, or the built-in
// simulated world (--demo).
type Source struct {
	// ConfigPath is the YAML file to load (ignored with Demo).
	ConfigPath string
	// Demo runs against in-process simulators and an embedded Redis.
	Demo bool
	// DemoPSA is the PSA to simulate (connectwise, autotask, halopsa).
	DemoPSA string
	// DemoUsers is the size of the simulated tenant (default 150).
	DemoUsers int
}

// open loads the config, or starts the simulated world and takes its
// config. The world (nil without Demo) must be closed by the caller.
func (s Source) open(ctx context.Context) (*config.Config, *simenv.Env, error) {
	if !s.Demo {
		cfg, err := config.Load(s.ConfigPath)
		if err != nil {
			return nil, nil, badConfig(err)
		}
		return cfg, nil, nil
	}
	env, err := startWorld(ctx, s.DemoPSA, s.DemoUsers)
	if err != nil {
		return nil, nil, err
	}
	return env.Config, env, nil
}

// openApp opens the App a one-shot command works on: the config (or the
// demo world), a logger on stderr that every library logs through, and the
// App. prepare, when set, sees the config and logger first: it checks the
// command's inputs (an error stops before Redis is dialled) and may tune
// the App's options. close releases the App and the world.
func (s Source) openApp(ctx context.Context, stderr io.Writer, prepare func(*config.Config, *logrus.Logger, *Options) error) (a *App, close func(), err error) {
	cfg, env, err := s.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	closeEnv := func() {
		if env != nil {
			env.Close()
		}
	}
	log := NewLogger(cfg.Log, stderr)
	routeLibraryLogs(log)
	tuneGC()
	ao := Options{Logger: log}
	if env != nil {
		ao.HTTPClient = env.HTTPClient
	}
	if prepare != nil {
		if err := prepare(cfg, log, &ao); err != nil {
			closeEnv()
			return nil, nil, err
		}
	}
	if a, err = New(ctx, cfg, ao); err != nil {
		closeEnv()
		return nil, nil, err
	}
	return a, func() { a.Close(); closeEnv() }, nil
}

// ServeOptions are the inputs of Serve, one per flag of the role commands.
type ServeOptions struct {
	Source Source
	// Roles to run (RoleServe, RoleWebhook, RoleWorker or RoleScheduler).
	Roles Role
	// Listen overrides server.listen.
	Listen string
	// Concurrency overrides worker.concurrency.
	Concurrency int
	// MetricsListen overrides worker.metrics_listen.
	MetricsListen string
	// DemoChangeEvery is how often the demo changes a simulated user.
	DemoChangeEvery time.Duration
	// Stdout gets the start-up banner; Stderr the logs.
	Stdout, Stderr io.Writer
}

// Serve runs the roles of `psasync serve|webhook|worker|scheduler` until ctx
// ends (nil: a clean shutdown). It is a process entry point: it routes the
// libraries' process-wide loggers through the configured logger and sets
// the collector's target (tuneGC).
func Serve(ctx context.Context, o ServeOptions) error {
	if o.Source.Demo && o.Roles != RoleServe {
		return badConfig(errors.New("--demo runs every role in one process; use psasync serve --demo"))
	}
	cfg, env, err := o.Source.open(ctx)
	if err != nil {
		return err
	}
	if env != nil {
		defer env.Close()
		cfg.Log.Format = "text"
	}
	log := NewLogger(cfg.Log, o.Stderr)
	routeLibraryLogs(log)
	tuneGC()
	n, err := NewNode(ctx, cfg, NodeOptions{
		Roles: o.Roles, Listen: o.Listen, Concurrency: o.Concurrency, MetricsListen: o.MetricsListen, Logger: log,
		World: env, Demo: env != nil, DemoChangeEvery: o.DemoChangeEvery,
	})
	if err != nil {
		return err
	}
	defer n.Close()
	n.Announce(o.Stdout)
	if err := n.Run(ctx); err != nil {
		return classify(err, ErrRunFailed)
	}
	return nil
}
