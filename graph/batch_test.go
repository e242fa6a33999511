package graph_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
)

// readAll reads every id concurrently, as that many per-user jobs would.
func readAll(c *graph.Client, ids []string) ([]directory.User, []error) {
	users, errs := make([]directory.User, len(ids)), make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { users[i], errs[i] = c.GetUser(context.Background(), id) })
	}
	wg.Wait()
	return users, errs
}

func TestBatchedReadsShareRoundTrips(t *testing.T) {
	t.Parallel()
	b := setup(t, 50, nil)
	batched := b.newClient(t, b.cfg, graph.WithBatch(50*time.Millisecond))
	var ids []string
	for _, u := range b.sim.Users(b.tenant) {
		ids = append(ids, u.ID)
	}
	// A lone read first, so the token is not part of the count.
	_, err := batched.GetUser(context.Background(), ids[0])
	require.NoError(t, err)
	b.sim.ResetStats()
	before := batched.Requests()

	users, errs := readAll(batched, ids)
	for i := range ids {
		require.NoError(t, errs[i])
		lone, err := b.client.GetUser(context.Background(), ids[i])
		require.NoError(t, err)
		require.Equal(t, lone, users[i], "a batched read gives what a lone GET gives")
	}
	st := b.sim.Stats()
	require.Equal(t, 50, st.BatchedRequests)
	require.LessOrEqual(t, st.Batches, 4, "50 reads in batches of up to 20")
	require.GreaterOrEqual(t, st.Batches, 3)
	require.EqualValues(t, st.Batches, batched.Requests()-before, "the client counts round trips")
}

func TestBatchedReadKeepsErrorClasses(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, nil)
	c := b.newClient(t, b.cfg, graph.WithBatch(20*time.Millisecond), graph.WithThrottleRetry(1, time.Second))
	ids := []string{}
	for _, u := range b.sim.Users(b.tenant) {
		ids = append(ids, u.ID)
	}
	// ids[1] is throttled once, briefly: waited out and read in a later batch.
	// ids[2] is throttled for longer than the client waits: the caller gets
	// Graph's Retry-After.
	b.sim.InjectFault(graphsim.Fault{PathContains: "/users/" + ids[1], Status: http.StatusTooManyRequests, RetryAfter: "0.1", Count: 1})
	b.sim.InjectFault(graphsim.Fault{PathContains: "/users/" + ids[2], Status: http.StatusTooManyRequests, RetryAfter: "30"})
	users, errs := readAll(c, append(ids, "gone-user"))
	require.NoError(t, errs[0])
	require.Equal(t, ids[0], users[0].ID)
	require.NoError(t, errs[1], "a short throttle inside a batch is waited out")
	require.Equal(t, ids[1], users[1].ID)
	var te *directory.ThrottledError
	require.ErrorAs(t, errs[2], &te)
	require.ErrorIs(t, errs[2], directory.ErrThrottled)
	require.Equal(t, 30*time.Second, te.RetryAfter)
	require.ErrorIs(t, errs[3], directory.ErrNotFound, "a deleted user is still not found")
	require.Contains(t, errs[3].Error(), "get user gone-user")
	require.Equal(t, 2, b.sim.Stats().BatchedThrottled)
}

func TestBatchFailureReachesEveryCaller(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, nil)
	c := b.newClient(t, b.cfg, graph.WithBatch(20*time.Millisecond), graph.WithThrottleRetry(0, 0))
	ids := []string{}
	for _, u := range b.sim.Users(b.tenant) {
		ids = append(ids, u.ID)
	}
	b.sim.InjectFault(graphsim.Fault{PathContains: "/$batch", Status: http.StatusServiceUnavailable, RetryAfter: "4"})
	_, errs := readAll(c, ids)
	for _, err := range errs {
		var te *directory.ThrottledError
		require.ErrorAs(t, err, &te)
		require.ErrorIs(t, err, directory.ErrUnavailable)
		require.Equal(t, 4*time.Second, te.RetryAfter)
	}
}

func TestBatchedReadHonoursItsContext(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, nil)
	c := b.newClient(t, b.cfg, graph.WithBatch(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetUser(ctx, b.sim.Users(b.tenant)[0].ID)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBatchLingerIsChecked(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, nil)
	for _, d := range []time.Duration{-time.Millisecond, 2 * time.Second} {
		_, err := graph.New(context.Background(), b.cfg, graph.WithBatch(d))
		require.ErrorContains(t, err, "batch linger")
	}
}
