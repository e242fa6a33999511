package graph_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/psasync/psasync/graph"
)

// simClock is a settable clock for the simulator.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fmtAll prints a config every way fmt can.
func fmtAll(c graph.Config) string {
	return fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
}
