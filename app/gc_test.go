package app

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTuneGC: without GOGC the process runs at defaultGCPercent; an
// operator's GOGC is left as it is.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "") // restored at cleanup
	require.NoError(t, os.Unsetenv("GOGC"))
	tuneGC()
	require.Equal(t, defaultGCPercent, debug.SetGCPercent(100), "no GOGC: psasync's default")

	t.Setenv("GOGC", "100")
	tuneGC()
	require.Equal(t, 100, debug.SetGCPercent(100), "the operator's GOGC wins")
}
