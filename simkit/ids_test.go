package simkit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit"
)

func TestFreeIDsPicksTheLowestUntaken(t *testing.T) {
	t.Parallel()
	taken := map[int]bool{1: true, 3: true}
	isTaken := func(id int) bool { return taken[id] }
	var ids simkit.FreeIDs
	for _, want := range []int{2, 4, 5} {
		got := ids.Pick(0, isTaken)
		require.Equal(t, want, got)
		taken[got] = true
	}
	require.Equal(t, 40, ids.Pick(40, isTaken), "a set id is kept")
	taken[40], taken[6] = true, true
	require.Equal(t, 7, ids.Pick(0, isTaken), "ids taken above the last pick are skipped")
}
