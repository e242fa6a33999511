package app

import "github.com/psasync/psasync/worker"

// setProgress hands the run-progress callback to the engine's config.
func (a *App) setProgress(wc *worker.Config, fn worker.ProgressFunc) {
	if fn == nil {
		return
	}
	// MERGE(worker.Config.Progress): the lead adds this field to
	// worker.Config; until it lands on this branch the line stays commented
	// and psasync sync shows no live progress. Uncomment at merge:
	// wc.Progress = fn
	a.log.Debug("run progress requested; the engine reports it once worker.Config.Progress exists")
}
