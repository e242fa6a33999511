package psa_test

import (
	"errors"
	"iter"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// numbers yields 1..n and then err, when err is not nil.
func numbers(n int, err error) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := 1; i <= n; i++ {
			if !yield(i, nil) {
				return
			}
		}
		if err != nil {
			yield(0, err)
		}
	}
}

func TestConvertSeq(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var got []string
	var gotErr error
	for s, err := range psa.ConvertSeq(numbers(3, boom), strconv.Itoa) {
		if err != nil {
			gotErr = err
			continue
		}
		got = append(got, s)
	}
	require.Equal(t, []string{"1", "2", "3"}, got)
	require.ErrorIs(t, gotErr, boom)

	got = nil
	for s := range psa.ConvertSeq(numbers(3, nil), strconv.Itoa) {
		got = append(got, s)
		break
	}
	require.Equal(t, []string{"1"}, got, "stopping early stops the source")
}

func TestFailedSeq(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	n := 0
	for v, err := range psa.FailedSeq[psa.Contact](boom) {
		n++
		require.Zero(t, v)
		require.ErrorIs(t, err, boom)
	}
	require.Equal(t, 1, n)
}
