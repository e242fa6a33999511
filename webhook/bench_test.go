package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchBody is a collection of n updated-user notifications of one
// subscription, as Graph batches them.
func benchBody(b *testing.B, n int) []byte {
	b.Helper()
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{
			"changeType":     "updated",
			"clientState":    secretA,
			"resource":       fmt.Sprintf("Users/%08d-1c63-4860-b963-e34ec660931d", i),
			"subscriptionId": subA,
			"tenantId":       tenantA,
			"resourceData": map[string]any{
				"@odata.type":    "#Microsoft.Graph.User",
				"@odata.id":      fmt.Sprintf("Users/%08d-1c63-4860-b963-e34ec660931d", i),
				"id":             fmt.Sprintf("%08d-1c63-4860-b963-e34ec660931d", i),
				"organizationId": tenantA,
				"sequenceNumber": i,
			},
			"subscriptionExpirationDateTime": "2026-05-24T23:21:19.3554403+00:00",
		}
	}
	data, err := json.Marshal(map[string]any{"value": items})
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkWebhookIngest measures notification ingest with a no-op
// Enqueuer: "handler" calls the gin engine directly (the webhook's own
// cost), "http" goes through a loopback HTTP server with keep-alive clients
// and also reports the 202's p50/p99 latency. The Redis-backed variant lives
// with the end-to-end tests.
func BenchmarkWebhookIngest(b *testing.B) {
	for _, batch := range []int{1, 50} {
		body := benchBody(b, batch)
		srv, err := New(Config{Lookup: fuzzLookup{}, Enqueuer: nopEnqueuer{}})
		if err != nil {
			b.Fatal(err)
		}
		h := srv.Handler()

		b.Run(fmt.Sprintf("handler/batch=%d", batch), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/webhook/graph", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusAccepted {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "notifications/s")
		})

		b.Run(fmt.Sprintf("http/batch=%d", batch), func(b *testing.B) {
			ts := httptest.NewServer(h)
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			url := ts.URL + "/webhook/graph"

			var (
				mu        sync.Mutex
				latencies []time.Duration
			)
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					start := time.Now()
					resp, err := client.Post(url, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					local = append(local, time.Since(start))
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
				mu.Lock()
				latencies = append(latencies, local...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "notifications/s")
			if len(latencies) > 0 {
				slices.Sort(latencies)
				b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
