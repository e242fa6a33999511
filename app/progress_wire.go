package app

import "github.com/psasync/psasync/worker"

// setProgress hands the run-progress callback to the engine's config.
func (a *App) setProgress(wc *worker.Config, fn worker.ProgressFunc) {
	if fn != nil {
		wc.Progress = fn
	}
}
