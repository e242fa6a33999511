package quota

import (
	"testing"
	"time"
)

// BenchmarkOverhead measures what the decorator adds to one call, against
// miniredis or the Redis at TEST_REDIS_ADDR: one round trip for the rate
// budget, two more (take, give back) for a concurrency slot.
func BenchmarkOverhead(b *testing.B) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"unlimited", Config{}},
		{"rate", Config{Requests: 1 << 30, Period: time.Hour}},
		{"concurrency", Config{MaxConcurrent: 1 << 20}},
		{"rate+concurrency", Config{Requests: 1 << 30, Period: time.Hour, MaxConcurrent: 1 << 20}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			r := newTestRedis(b)
			cfg := bc.cfg
			if cfg.Limited() {
				cfg = r.config(cfg)
			}
			c := Wrap(&fakePSA{}, r.client(b), cfg)
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.GetContact(ctx, "1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
