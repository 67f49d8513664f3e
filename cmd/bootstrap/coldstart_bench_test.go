package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/lambdaharness"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/internal/sqsstack"
	"eventrelay.dev/eventrelay/shared/config"
)

// BenchmarkColdStart measures, per function, a Lambda cold start as the
// Runtime API sees it: from starting the bootstrap process to the first
// answered invocation (ms/start, the median of b.N starts), against the
// local AWS stack (goaws, Secrets Manager stand-in). init-ms is the same
// function's setup alone (secrets read, clients built) in this process.
// Run it bounded: -benchtime 5x.
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
	for _, fn := range []string{"ingest", "forwarder"} {
		b.Run(fn, func(b *testing.B) {
			env := st.LambdaEnv(fn)
			var starts, inits []time.Duration
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
				rt.Close()
				if err != nil || res.IsError {
					b.Fatalf("first invocation: %v %s", err, res.Payload)
				}
				inits = append(inits, initTime(b, fn, env))
			}
			b.ReportMetric(ms(median(starts)), "ms/start")
			b.ReportMetric(ms(median(inits)), "init-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// initTime is setup's time for fn with env (KEY=VALUE), in this process.
func initTime(b *testing.B, fn string, env []string) time.Duration {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	t0 := time.Now()
	var closeFn func() error
	switch fn {
	case "ingest":
		f, err := setup.Ingest(context.Background(), config.FromMap(m), setup.Options{})
		if err != nil {
			b.Fatal(err)
		}
		closeFn = f.Close
	case "forwarder":
		f, err := setup.NewForwarder(context.Background(), config.FromMap(m), setup.Options{})
		if err != nil {
			b.Fatal(err)
		}
		closeFn = f.Close
	}
	d := time.Since(t0)
	closeFn()
	return d
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
