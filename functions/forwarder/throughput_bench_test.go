package forwarder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/functions/forwarder/lambdasqs"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
)

// sinkLatency is what the Events API stand-in adds to every call: a
// platform answering in 50 ms, so one instance's throughput is set by how
// many sends it keeps in flight (concurrency / 50 ms at best).
const sinkLatency = 50 * time.Millisecond

// throughputRig is one forwarder instance as setup builds it (the real MCM
// client and its HTTP client from mcm.NewHTTPClient) sending over loopback
// HTTP to the strict stand-in.
func throughputRig(b *testing.B) (*forwarder.Forwarder, *mcmsink.Sink) {
	b.Helper()
	sink := mcmsink.New(mcmsink.Config{PlatformID: "bench-platform", APIKey: "bench-key",
		Now: func() time.Time { return forwarder.TestNow }})
	sink.SetFaults(mcmsink.Faults{Latency: sinkLatency})
	srv := httptest.NewServer(sink)
	b.Cleanup(srv.Close)
	client, err := mcm.New(mcm.Config{BaseURL: srv.URL, PlatformID: "bench-platform",
		APIKey:     func(context.Context) (string, error) { return "bench-key", nil },
		HTTPClient: mcm.NewHTTPClient(10 * time.Second)})
	if err != nil {
		b.Fatal(err)
	}
	f, err := forwarder.New(forwarder.WithDefaults(forwarder.Config{}), forwarder.Deps{Sender: client, DeadLetter: &queue.Memory{}})
	if err != nil {
		b.Fatal(err)
	}
	return f, sink
}

var benchSeq atomic.Int64

// uniqueBody is an event the forwarder has not delivered yet.
func uniqueBody() (string, string) {
	id := fmt.Sprintf("evt-bench-%d", benchSeq.Add(1))
	return id, strings.Replace(forwarder.Body, "evt-1", id, 1)
}

func report(b *testing.B, sink *mcmsink.Sink, before int, concurrency int) {
	b.StopTimer()
	got := sink.Stats().Accepted - before
	if got != b.N {
		b.Fatalf("the stand-in accepted %d of %d events", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(concurrency), "in-flight")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkForwarderThroughput measures one forwarder instance against the
// stand-in with 50 ms latency, in both of its shapes:
//
//   - push: Pub/Sub push requests over loopback HTTP to PushHandler, c at a
//     time (on Cloud Run functions, c is the instance's request
//     concurrency; in the local stack, the push emulator's outstanding
//     messages);
//   - sqs: Lambda batches of 100 or 200 records through lambdasqs.Handle with
//     FORWARDER_CONCURRENCY = c, one batch after another as one Lambda
//     instance takes them.
//
// Run it bounded, e.g. -benchtime 4000x; events/s is the figure.
func BenchmarkForwarderThroughput(b *testing.B) {
	for _, c := range []int{16, 64, 200, 256} { // 200: the Terraform default request concurrency
		b.Run(fmt.Sprintf("push/c=%d", c), func(b *testing.B) {
			f, sink := throughputRig(b)
			srv := httptest.NewServer(f.PushHandler())
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
			before := sink.Stats().Accepted
			jobs := make(chan []byte, c)
			var wg sync.WaitGroup
			var failed atomic.Int64
			b.ResetTimer()
			for range c {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for p := range jobs {
						resp, err := hc.Post(srv.URL, "application/json", bytes.NewReader(p))
						if err != nil {
							failed.Add(1)
							continue
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusNoContent {
							failed.Add(1)
						}
					}
				}()
			}
			for i := 0; i < b.N; i++ {
				id, ev := uniqueBody()
				var m forwarder.MessagePublishedData
				m.Message.Data, m.Message.MessageID = []byte(ev), id
				m.Message.Attributes = map[string]string{queue.AttrEventID: id}
				m.Subscription, m.DeliveryAttempt = "projects/p/subscriptions/s", 1
				p, _ := json.Marshal(m)
				jobs <- p
			}
			close(jobs)
			wg.Wait()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d pushes were not acknowledged", n)
			}
			report(b, sink, before, c)
		})
	}
	// The old setting (batch 100, 16 in flight), batch 100 with the
	// FORWARDER_CONCURRENCY default, and the Terraform defaults (batch_size
	// 200, FORWARDER_CONCURRENCY set to match).
	for _, s := range []struct{ batch, c int }{{100, 16}, {100, 128}, {200, 200}} {
		batch, c := s.batch, s.c
		b.Run(fmt.Sprintf("sqs/batch=%d/concurrency=%d", batch, c), func(b *testing.B) {
			f, sink := throughputRig(b)
			before := sink.Stats().Accepted
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(batch, b.N-done)
				ev := events.SQSEvent{Records: make([]events.SQSMessage, n)}
				for i := range ev.Records {
					id, text := uniqueBody()
					ev.Records[i] = events.SQSMessage{MessageId: id, Body: text,
						Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
				}
				resp, _ := lambdasqs.Handle(context.Background(), f, ev, nil, c)
				if len(resp.BatchItemFailures) > 0 {
					b.Fatalf("%d records failed", len(resp.BatchItemFailures))
				}
				done += n
			}
			report(b, sink, before, c)
		})
	}
}
