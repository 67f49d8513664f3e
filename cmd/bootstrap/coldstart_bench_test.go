package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/lambdaharness"
	"eventrelay.dev/eventrelay/internal/sqsstack"
)

// BenchmarkColdStart measures, per function, a Lambda cold start as the
// Runtime API sees it: from starting the bootstrap process to the first
// answered invocation (ms/start, the median of b.N starts), against the
// local AWS stack (goaws, Secrets Manager stand-in). init-ms and the
// <phase>-ms figures are the bootstrap's own "init done" line: setup's time
// in all and per phase (clients built, queue checked, secrets read). The
// secrets_rtt=20ms runs give each Secrets Manager call a 20 ms round trip,
// as the real service takes from a function, which the local stand-in
// does not. Run it bounded: -benchtime 5x.
func BenchmarkColdStart(b *testing.B) {
	bin := lambdaharness.Bootstrap(b)
	st := sqsstack.Start(b, sqsstack.Config{NoPoller: true})
	payloads := map[string]func() []byte{
		"ingest": func() []byte {
			body := fmt.Sprintf(`{"id":"cold-1","event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-1"}`,
				time.Now().Add(-time.Minute).UnixMilli())
			return fmt.Appendf(nil, functionURLEvent, sqsstack.APIKey, time.Now().UnixMilli(), body)
		},
		"forwarder": func() []byte { return []byte(`{"Records":[]}`) },
	}
	for _, run := range []struct {
		fn  string
		rtt time.Duration
	}{{"ingest", 0}, {"forwarder", 0}, {"ingest", 20 * time.Millisecond}, {"forwarder", 20 * time.Millisecond}} {
		name, fn := run.fn, run.fn
		if run.rtt > 0 {
			name += "/secrets_rtt=" + run.rtt.String()
		}
		b.Run(name, func(b *testing.B) {
			st.Secrets.SetLatency(run.rtt)
			defer st.Secrets.SetLatency(0)
			env := st.LambdaEnv(fn)
			var starts []time.Duration
			phases := map[string][]float64{}
			for range b.N {
				t0 := time.Now()
				rt, err := lambdaharness.Start(bin, env)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				res, err := rt.Invoke(ctx, payloads[fn]())
				cancel()
				starts = append(starts, time.Since(t0))
				if cerr := rt.Close(); cerr != nil {
					b.Fatal(cerr)
				}
				if err != nil || res.IsError {
					b.Fatalf("first invocation: %v %s", err, res.Payload)
				}
				for name, v := range initPhases(rt.Output()) {
					phases[name] = append(phases[name], v)
				}
			}
			b.ReportMetric(ms(median(starts)), "ms/start")
			for name, v := range phases {
				sort.Float64s(v)
				b.ReportMetric(v[len(v)/2], strings.TrimSuffix(name, "_ms")+"-ms")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// initPhases reads the "init done" line of a bootstrap's output: its
// init_ms and <phase>_ms fields; none from a bootstrap that writes no such
// line (an older build, timed for comparison through
// EVENTRELAY_TEST_BOOTSTRAP).
func initPhases(output string) map[string]float64 {
	for line := range strings.SplitSeq(output, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["message"] != "init done" {
			continue
		}
		out := map[string]float64{}
		for k, v := range m {
			if f, ok := v.(float64); ok && strings.HasSuffix(k, "_ms") {
				out[k] = f
			}
		}
		return out
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
