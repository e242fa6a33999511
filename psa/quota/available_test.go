package quota

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAvailableReadsWithoutSpending: Available shows the burst left, drops
// as calls spend it, and reading it spends nothing.
func TestAvailableReadsWithoutSpending(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	c := Wrap(&fakePSA{}, r.client(t), r.config(Config{Requests: 10, Burst: 5, Period: time.Hour}))
	for range 3 {
		n, err := c.Available(t.Context())
		require.NoError(t, err)
		require.Equal(t, 5, n, "reading spends nothing")
	}
	_, err := c.GetContact(t.Context(), "1")
	require.NoError(t, err)
	n, err := c.Available(t.Context())
	require.NoError(t, err)
	require.Equal(t, 4, n)

	unlimited := Wrap(&fakePSA{}, nil, Config{})
	n, err = unlimited.Available(t.Context())
	require.NoError(t, err)
	require.Equal(t, -1, n, "no rate budget")
}
