package graph_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
)

func TestShortThrottleIsWaitedOut(t *testing.T) {
	t.Parallel()
	b := setup(t, 10, nil)
	b.sim.InjectFault(graphsim.Fault{PathContains: "/v1.0/users", Status: http.StatusTooManyRequests, RetryAfter: "0.2", Count: 1})
	start := time.Now()
	users, err := collect(t, b.client)
	require.NoError(t, err)
	require.Len(t, users, 10)
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "the fractional Retry-After was honoured")
	require.EqualValues(t, 2, b.client.Requests())
	require.Equal(t, 1, b.sim.Stats().Throttled)
}

func TestThrottleRetriesAreBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, 10, nil)
	b.sim.InjectFault(graphsim.Fault{PathContains: "/v1.0/users", Status: http.StatusTooManyRequests, RetryAfter: "0.05"})
	_, err := b.client.GetUser(context.Background(), "anyone")
	var te *directory.ThrottledError
	require.ErrorAs(t, err, &te)
	require.Equal(t, 50*time.Millisecond, te.RetryAfter)
	require.ErrorIs(t, err, directory.ErrThrottled)
	require.EqualValues(t, 1+graph.DefaultThrottleRetries, b.client.Requests())
}

func TestLongThrottleGoesToTheCaller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
		kind       error
	}{
		{"429 longer than the client waits", http.StatusTooManyRequests, "30", 30 * time.Second, directory.ErrThrottled},
		{"fractional seconds", http.StatusTooManyRequests, "2.128", 2128 * time.Millisecond, directory.ErrThrottled},
		{"503 with Retry-After", http.StatusServiceUnavailable, "7.5", 7500 * time.Millisecond, directory.ErrUnavailable},
		{"429 without Retry-After", http.StatusTooManyRequests, "", 5 * time.Second, directory.ErrThrottled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 3, nil, graph.WithThrottleRetry(2, time.Second))
			b.sim.InjectFault(graphsim.Fault{PathContains: "/v1.0/", Status: tc.status, RetryAfter: tc.retryAfter})
			start := time.Now()
			_, err := b.client.Delta(context.Background(), "")
			elapsed := time.Since(start)
			var te *directory.ThrottledError
			require.ErrorAs(t, err, &te)
			require.Equal(t, tc.want, te.RetryAfter)
			require.ErrorIs(t, err, tc.kind)
			if tc.retryAfter != "" {
				require.Less(t, elapsed, time.Second, "nothing longer than the configured wait is slept")
				require.EqualValues(t, 1, b.client.Requests())
			}
		})
	}
}

func TestThrottleRetryCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, nil, graph.WithThrottleRetry(0, 0))
	b.sim.InjectFault(graphsim.Fault{PathContains: "/v1.0/", Status: http.StatusTooManyRequests, RetryAfter: "0.01", Count: 1})
	_, err := collect(t, b.client)
	require.ErrorIs(t, err, directory.ErrThrottled)
	require.EqualValues(t, 1, b.client.Requests())
	users, err := collect(t, b.client)
	require.NoError(t, err)
	require.Len(t, users, 3)
}

func TestThrottleWaitRespectsTheContext(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, nil, graph.WithThrottleRetry(2, time.Minute))
	b.sim.InjectFault(graphsim.Fault{PathContains: "/v1.0/", Status: http.StatusTooManyRequests, RetryAfter: "30"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client.GetUser(ctx, "x")
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestThrottledTokenEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, nil)
	b.sim.InjectFault(graphsim.Fault{PathContains: "/oauth2/", Status: http.StatusTooManyRequests, RetryAfter: "12"})
	_, err := b.client.GetUser(context.Background(), "x")
	var te *directory.ThrottledError
	require.ErrorAs(t, err, &te, "%v", err)
	require.Equal(t, 12*time.Second, te.RetryAfter)
	require.False(t, errors.Is(err, directory.ErrPermissionDenied))
	require.Zero(t, b.client.Requests())
}
