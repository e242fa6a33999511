package app

import "errors"

// ErrBadConfig marks a failure caused by flags or config: the command did
// no work and wrote nothing (psasync exits 2).
var ErrBadConfig = errors.New("bad config")

// ErrUnavailable marks a dependency that did not answer: Redis, Graph or
// the PSA (psasync exits 1).
var ErrUnavailable = errors.New("dependency unavailable")

// ErrRunFailed is returned when the work ran and failed, e.g. a sync whose
// report has success false (psasync exits 1).
var ErrRunFailed = errors.New("run failed")

// classified is an error with a class (one of the sentinels above) that
// errors.Is finds, while its message stays the cause's own.
type classified struct{ err, class error }

func (c *classified) Error() string   { return c.err.Error() }
func (c *classified) Unwrap() []error { return []error{c.err, c.class} }

// badConfig classes err as ErrBadConfig.
func badConfig(err error) error { return classify(err, ErrBadConfig) }

// unavailable classes err as ErrUnavailable.
func unavailable(err error) error { return classify(err, ErrUnavailable) }

func classify(err, class error) error {
	if err == nil || errors.Is(err, ErrBadConfig) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRunFailed) {
		return err
	}
	return &classified{err: err, class: class}
}
