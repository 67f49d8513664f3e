package ingest

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/queue"
)

// BenchmarkIngestFullDedupeSet measures what a busy instance's
// de-duplication set costs the GC: single-event requests with distinct ids
// against an instance whose set is already at its budget (both generations
// full), next to one with de-duplication off. Run it with the Terraform
// modules' settings, `GOGC=400 GOMEMLIMIT=100663296`: with the set's some
// 20 MB live, the heap reaches the limit before GOGC's target, and the GC
// runs by the limit. It reports the live heap after the run, GC cycles per
// million requests and the GC's share of the process's CPU during the run
// (runtime/metrics: GC time over the time not idle).
func BenchmarkIngestFullDedupeSet(b *testing.B) {
	for _, dedupe := range []bool{false, true} {
		b.Run(fmt.Sprintf("dedupe=%v", dedupe), func(b *testing.B) {
			h := newHarness(&testing.T{}, func(c *Config) {
				if !dedupe {
					c.DedupeWindow = 0
				}
			})
			h.svc.pub = queue.Discard{}
			if dedupe { // more ids than the budget holds: the set drops the oldest generation
				for i := range 600_000 {
					h.svc.seen.Add(event.Key("shop", fmt.Sprintf("fill-%08d", i)))
				}
			}
			runtime.GC()
			samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"},
				{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"},
				{Name: "/cpu/classes/idle:cpu-seconds"}}
			read := func() (cycles, gc, busy float64) {
				metrics.Read(samples)
				return float64(samples[0].Value.Uint64()), samples[1].Value.Float64(),
					samples[2].Value.Float64() - samples[3].Value.Float64()
			}
			cycles0, gc0, busy0 := read()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				serveAccepted(b, h.svc, purchase(fmt.Sprintf("evt-%08d", i))) // a new id every request
				i++
			}
			b.StopTimer()
			cycles1, gc1, busy1 := read()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			runtime.KeepAlive(h)
			b.ReportMetric(float64(ms.HeapAlloc)/1e6, "MB-live")
			b.ReportMetric((cycles1-cycles0)/float64(b.N)*1e6, "GCs/1M-requests")
			b.ReportMetric((gc1-gc0)/(busy1-busy0)*100, "%GC-CPU")
		})
	}
}
