package app

import (
	"context"
	"errors"
	"io"
	"time"

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
// libraries' process-wide loggers through the configured logger.
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
