package app

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the collector's target in psasync's processes unless
// GOGC says otherwise. A first sync of 100,000 users peaks at about 230 MB
// with it, against 270–320 MB at Go's default of 100, for the same CPU
// within the machine's noise (BENCHMARKS.md).
const defaultGCPercent = 50

// tuneGC sets defaultGCPercent when the operator has not set GOGC; an
// operator's GOGC (or GOMEMLIMIT beside it) always wins.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
