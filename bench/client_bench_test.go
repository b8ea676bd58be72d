// Package bench holds Rampart's benchmarks; numbers are recorded in the README.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-scan/rampart/internal/probe"
)

// BenchmarkClientThroughput measures the full round-tripper chain (guards,
// budget, limiter, recorder with capped read) against a loopback server, with
// the rate limit off and 8 requests in flight.
func BenchmarkClientThroughput(b *testing.B) {
	body := strings.Repeat(`{"id":1,"name":"x"},`, 50)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "["+body+`{"id":2}]`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, err := probe.New(probe.Config{Target: u, Concurrency: 8})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	jobs := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := c.Do(ctx, &probe.Request{Method: "GET", URL: srv.URL + "/items"}); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
