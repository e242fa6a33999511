package main

import (
	"context"
	"net/http"

	"github.com/psasync/psasync/cmd/psasim/simenv"
	"github.com/psasync/psasync/config"
)

// demoEnv is the in-process simulated world of --demo.
type demoEnv struct {
	*simenv.Env
	cfg *config.Config
}

type demoOptions struct {
	users int
}

// startDemo starts the Graph simulator and a PSA simulator seeded with
// matching, stale, duplicated and orphaned contacts. The config it returns
// uses an embedded Redis.
func startDemo(ctx context.Context, psaType string, o demoOptions) (*demoEnv, error) {
	env, err := simenv.Start(ctx, simenv.Options{PSA: psaType, Users: o.users, SeedPSA: true})
	if err != nil {
		return nil, err
	}
	return &demoEnv{Env: env, cfg: env.Config}, nil
}

// httpClient is the client that trusts the simulators; nil outside demos.
func (d *demoEnv) httpClient() *http.Client {
	if d == nil {
		return nil
	}
	return d.HTTPClient
}

// Close stops the simulators.
func (d *demoEnv) Close() {
	if d != nil {
		d.Env.Close()
	}
}

