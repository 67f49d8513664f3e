package ingest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/logging"
	"eventrelay.dev/eventrelay/shared/queue"
)

// BenchmarkIngest measures the handler alone (a publisher that discards):
// authentication, parsing, validation, cleansing, hashing, id derivation
// and encoding. It reports ns/event, events/s (one benchmark goroutine, so
// about one core; the GC runs beside it), and allocs/event and B/event.
//
// BenchmarkIngestLogged is the same with the deployed JSON logger writing
// to io.Discard: what the log lines (one per request with its counts; one
// per event only for an event not queued, none here) cost to encode.
func BenchmarkIngest(b *testing.B) { benchIngest(b, nil) }

func BenchmarkIngestLogged(b *testing.B) {
	log, err := logging.New(io.Discard, "info")
	if err != nil {
		b.Fatal(err)
	}
	benchIngest(b, func(h *harness) { h.svc.log = log.With("function", "ingest") })
}

// benchIngest runs BenchmarkIngest's requests on a harness that with
// changes first.
func benchIngest(b *testing.B, with func(h *harness)) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			h := newHarness(&testing.T{}, func(c *Config) { c.DedupeWindow = 0 })
			h.svc.pub = queue.Discard{}
			if with != nil {
				with(h)
			}
			parts := make([]string, n)
			for i := range parts {
				// Half the events carry an id, half get one derived.
				id := ""
				if i%2 == 0 {
					id = fmt.Sprintf("evt-%d", i)
				}
				parts[i] = purchase(id)
				parts[i] = strings.Replace(parts[i], "alice@example.com", fmt.Sprintf("user-%d@example.com", i), 1)
			}
			body := "[" + strings.Join(parts, ",") + "]"
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				serveAccepted(b, h.svc, body)
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/event")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*n), "B/event")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// serveAccepted posts body to svc as a caller with the API key does, and
// fails b unless every event is accepted.
func serveAccepted(b *testing.B, svc *Service, body string) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}
