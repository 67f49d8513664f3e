package logmetrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// volume is what one phase of the run logged, per function.
type volume map[string]struct{ lines, bytes int }

// measure counts the lines and bytes (newline included) of raw per
// function, as the clouds ingest them: one entry per line.
func measure(t *testing.T, raw []byte) volume {
	t.Helper()
	out := volume{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct{ Function string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		v := out[l.Function]
		v.lines++
		v.bytes += len(sc.Bytes()) + 1
		out[l.Function] = v
	}
	return out
}

// volumeEvents makes n valid events, one in ten a PURCHASE the ledger
// records (device dev-0, 19 USD, so a verify callback confirms it), the
// rest SEARCH, ADD_TO_CART and PAGE_VIEW: the cost model's mix.
func volumeEvents(prefix string, n int, at time.Time) []map[string]any {
	evs := e2e.Events(prefix, "android", n, at)
	for i, e := range evs {
		switch {
		case i%10 == 0:
			purchase := e2e.Events(prefix, "android", 1, at)[0]
			purchase["id"] = e["id"]
			evs[i] = purchase
		case e["event_type"] == "PURCHASE":
			delete(e, "items")
			delete(e, "revenue")
			e["event_type"], e["page_id"] = "PAGE_VIEW", "home"
		}
	}
	return evs
}

// TestLogVolume runs the local stack (the real functions, logging with the
// real logger at the deployed level) through the cost model's traffic and
// measures the log lines and bytes each function writes per event: ingest
// and the forwarder for batches of 100 and for single-event requests,
// verify per callback, backfill per dead letter resent. `go test
// ./internal/logmetrics -run TestLogVolume -v` prints the table
// (docs/operations.md quotes it).
func TestLogVolume(t *testing.T) {
	st, out := startLogged(t, forwarderFailsFast("10s"))
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	counter := func(k string) int64 { return st.Counters.Snapshot()[k] }
	waitCount := func(k string, n int64) {
		t.Helper()
		e2e.WaitFor(t, fmt.Sprintf("%s to reach %d", k, n), 60*time.Second, func() bool { return counter(k) >= n })
	}
	ingest := func(body any) {
		t.Helper()
		if status, resp := e2e.PostIngest(t, st.IngestURL, devstack.DevAPIKey, body); status != http.StatusAccepted {
			t.Fatalf("ingest answered %d: %v", status, resp)
		}
	}
	// phase runs do and returns what the functions logged meanwhile.
	phase := func(do func()) volume {
		t.Helper()
		before := len(out.Bytes())
		do()
		return measure(t, out.Bytes()[before:])
	}
	// Let start-up lines (init done) pass first.
	time.Sleep(200 * time.Millisecond)

	const batches, batchSize, singles = 20, 100, 300
	delivered := int64(0)
	batched := phase(func() {
		for b := range batches {
			ingest(volumeEvents(fmt.Sprintf("vb%02d", b), batchSize, at))
		}
		delivered += batches * batchSize
		waitCount("forwarder_outcomes.delivered", delivered)
	})
	single := phase(func() {
		for _, e := range volumeEvents("vs", singles, at) {
			ingest(e)
		}
		delivered += singles
		waitCount("forwarder_outcomes.delivered", delivered)
	})
	const callbacks = batches * batchSize / 10
	verified := phase(func() {
		for b := range batches {
			for i := 0; i < batchSize; i += 10 {
				if status, body := e2e.Callback(t, st.VerifyURL, devstack.DevDFINERYKey, fmt.Sprintf("vb%02d-%04d", b, i), at, "19"); status != http.StatusOK {
					t.Fatalf("verify: %d %s", status, body)
				}
			}
		}
	})
	// An outage dead-letters a batch (two attempts each); the backfill
	// run resends it once the platform is back.
	const parked = 100
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	outage := phase(func() {
		ingest(volumeEvents("vo", parked, at))
		waitCount("forwarder_outcomes.dead_lettered", parked)
	})
	st.Sink.SetFaults(mcmsink.Faults{})
	backfilled := phase(func() {
		resp, err := http.Post(st.BackfillURL, "application/json", strings.NewReader(`{"reasons":["retryable"]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("backfill answered %s", resp.Status)
		}
		waitCount("backfill_events.resent", parked)
	})

	rows := []struct {
		what, fn string
		v        volume
		per      int
	}{
		{"ingest, batches of 100, per event", "ingest", batched, batches * batchSize},
		{"forwarder, per event delivered", "forwarder", batched, batches * batchSize},
		{"ingest, single-event requests, per event", "ingest", single, singles},
		{"forwarder, per event delivered (singles)", "forwarder", single, singles},
		{"verify, per callback", "verify", verified, callbacks},
		{"forwarder, per event dead-lettered after 2 attempts", "forwarder", outage, parked},
		{"backfill, per dead letter resent", "backfill", backfilled, parked},
	}
	var report strings.Builder
	fmt.Fprintf(&report, "\n%-52s %10s %10s\n", "function and traffic", "lines/ev", "bytes/ev")
	for _, r := range rows {
		v := r.v[r.fn]
		fmt.Fprintf(&report, "%-52s %10.3f %10.1f\n", r.what, float64(v.lines)/float64(r.per), float64(v.bytes)/float64(r.per))
	}
	var others []string
	for _, v := range []volume{batched, single, verified, outage, backfilled} {
		for fn := range v {
			if fn != "ingest" && fn != "forwarder" && fn != "verify" && fn != "backfill" {
				others = append(others, fn)
			}
		}
	}
	sort.Strings(others)
	if len(others) > 0 {
		fmt.Fprintf(&report, "lines of other functions: %v\n", others)
	}
	t.Log(report.String())
	// At the deployed level ingest writes one line per request that queued
	// every event, not one per event (docs/operations.md).
	if v := batched["ingest"]; v.lines != batches {
		t.Errorf("ingest wrote %d lines for %d requests of %d events, want one a request", v.lines, batches, batchSize)
	}
	if v := single["ingest"]; v.lines != singles {
		t.Errorf("ingest wrote %d lines for %d single-event requests, want one a request", v.lines, singles)
	}
}
