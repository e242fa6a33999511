package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestRedisTroubleTellsFailuresFromAnswers(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, err := range []error{refused, fmt.Errorf("check lock x: %w", refused), io.EOF,
		errors.New("READONLY You can't write against a read only replica."), errors.New("LOADING Redis is loading"),
		errors.New("CLUSTERDOWN The cluster is down")} {
		require.True(t, redisTrouble(err), "%v", err)
	}
	for _, err := range []error{nil, redis.Nil, context.Canceled, errors.New("create contact 7: conflict"),
		errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")} {
		require.False(t, redisTrouble(err), "%v", err)
	}
	var w redisWatch
	require.False(t, w.recovering(refused), "no Redis failure seen yet")
	w.note(errors.New("create contact 7: conflict"))
	require.False(t, w.recovering(refused), "an answer is no failure")
	w.note(io.EOF)
	require.True(t, w.recovering(refused))
	require.False(t, w.recovering(errors.New("psa: 500")), "only network-class errors are taken for the failover")
}
