package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// startForBackfill is the stack with a forwarder that gives up after two
// quick attempts (so an outage fills the dead-letter subscription within a
// second), a breaker that never opens, and a short backfill budget.
func startForBackfill(t *testing.T, extra ...map[string]string) *Stack {
	t.Helper()
	env := map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms",
		"FORWARDER_MAX_ATTEMPTS": "2", "FORWARDER_BREAKER_THRESHOLD": "10000",
		"BACKFILL_TIME_BUDGET": "3s", "BACKFILL_RATE": "500", "BACKFILL_BATCH": "25"}
	for _, e := range extra {
		maps.Copy(env, e)
	}
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	return st
}

func postBackfill(t *testing.T, st *Stack, params map[string]any) (int, backfill.Summary) {
	t.Helper()
	b, _ := json.Marshal(params)
	resp, err := http.Post(st.BackfillURL, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s backfill.Summary
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("backfill answered %s without a summary: %v", resp.Status, err)
	}
	return resp.StatusCode, s
}

// deadLetterDuringOutage ingests evs while the stand-in is down and waits
// until the forwarder dead-lettered all of them.
func deadLetterDuringOutage(t *testing.T, st *Stack, evs []map[string]any) {
	t.Helper()
	before := st.Counters.Snapshot()["forwarder_outcomes.dead_lettered"]
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	if status, resp := postIngest(t, st, evs); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "every event dead-lettered", 30*time.Second, func() bool {
		return st.Counters.Snapshot()["forwarder_outcomes.dead_lettered"]-before >= int64(len(evs))
	})
}

func relabel(evs []map[string]any, prefix string) []map[string]any {
	for i, e := range evs {
		e["id"] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return evs
}

// After an outage, a dry run changes nothing, a run while the platform is
// still down re-parks everything, and one run after it recovers delivers
// every event exactly once, with its id and original timestamp.
func TestBackfillAfterOutage(t *testing.T) {
	st := startForBackfill(t)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	evs := relabel(events(40, at), "outage")
	deadLetterDuringOutage(t, st, evs)
	if n := st.Sink.Stats().Accepted; n != 0 {
		t.Fatalf("%d accepted during the outage", n)
	}

	for range 2 { // the second dry run finds exactly what the first did
		status, s := postBackfill(t, st, map[string]any{"dry_run": true})
		if status != 200 || s.Scanned != 40 || s.Selected != 40 || s.Resent != 0 || s.MoreRemaining {
			t.Fatalf("dry run: %d %+v", status, s)
		}
	}
	if n := st.Sink.Stats().Requests; n != 80 { // 2 attempts each by the forwarder, none by the dry runs
		t.Fatalf("the stand-in saw %d requests, want 80", n)
	}

	// Still down: what is tried fails again and is parked again, and the
	// run stops calling a platform that keeps failing.
	status, s := postBackfill(t, st, nil)
	if status != 200 || s.Resent != 0 || s.StillFailing["retryable"] < 6 || s.StopReason != backfill.StopPlatformFailing ||
		s.StillFailing["retryable"]+s.Deferred != s.Scanned || !s.MoreRemaining {
		t.Fatalf("run during the outage: %d %+v", status, s)
	}

	st.Sink.SetFaults(mcmsink.Faults{})
	status, s = postBackfill(t, st, nil)
	if status != 200 || s.Scanned != 40 || s.Resent != 40 || s.MoreRemaining || s.StopReason != backfill.StopDrained {
		t.Fatalf("run after recovery: %d %+v", status, s)
	}
	counts := st.Sink.CountByID()
	for _, e := range evs {
		if n := counts[e["id"].(string)]; n != 1 {
			t.Fatalf("%s delivered %d times", e["id"], n)
		}
	}
	for _, r := range st.Sink.Accepted() {
		var got struct {
			Timestamp int64 `json:"timestamp"`
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Timestamp != at.UnixMilli() {
			t.Fatalf("%s arrived with timestamp %d, want the original %d", r.ID, got.Timestamp, at.UnixMilli())
		}
	}
	// Nothing is left to resend.
	if _, s := postBackfill(t, st, map[string]any{"dry_run": true}); s.Scanned != 0 {
		t.Fatalf("after the backfill: %+v", s)
	}
}

// A rate-capped run sends no more than rate × budget, and leaves the rest,
// untouched, for the next run; selection leaves other types alone.
func TestBackfillRateCapAndSelection(t *testing.T) {
	st := startForBackfill(t)
	evs := relabel(events(60, time.Now().Add(-time.Minute)), "capped")
	deadLetterDuringOutage(t, st, evs)
	st.Sink.SetFaults(mcmsink.Faults{})

	const rate, budget = 4, 3 // BACKFILL_TIME_BUDGET=3s
	_, s := postBackfill(t, st, map[string]any{"rate": rate})
	if s.Rate != rate || s.Resent < 1 || s.Resent > rate*budget+1 || !s.MoreRemaining || s.StopReason != backfill.StopTimeBudget {
		t.Fatalf("capped run: %+v (at most %d)", s, rate*budget+1)
	}
	if n := st.Sink.Stats().Accepted; n != s.Resent {
		t.Fatalf("the stand-in accepted %d, the summary says %d", n, s.Resent)
	}
	first := s.Resent

	counts := st.Sink.CountByID()
	purchasesLeft := 0
	for _, e := range evs {
		if e["event_type"] == "PURCHASE" && counts[e["id"].(string)] == 0 {
			purchasesLeft++
		}
	}
	_, s = postBackfill(t, st, map[string]any{"event_types": []string{"PURCHASE"}})
	if s.Resent != purchasesLeft || s.Skipped != 60-first-purchasesLeft || st.Sink.Stats().Accepted != first+purchasesLeft {
		t.Fatalf("purchases only: %+v, %d purchases were left", s, purchasesLeft)
	}
	_, s = postBackfill(t, st, nil)
	if s.MoreRemaining {
		t.Fatalf("last run: %+v", s)
	}
	counts = st.Sink.CountByID()
	for _, e := range evs {
		if n := counts[e["id"].(string)]; n != 1 {
			t.Fatalf("%s delivered %d times", e["id"], n)
		}
	}
}

// Events the subscription itself dead-letters (its max delivery attempts
// reached before the forwarder gave up) carry no reason. The backfill
// treats them as retryable, delivers each once, and stops as drained
// rather than pulling on until its budget.
func TestBackfillOfSubscriptionDeadLetters(t *testing.T) {
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond,
		Env: map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms",
			"FORWARDER_MAX_ATTEMPTS": "50", "FORWARDER_BREAKER_THRESHOLD": "10000",
			"BACKFILL_TIME_BUDGET": "30s", "BACKFILL_RATE": "500"}})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	evs := relabel(events(20, time.Now().Add(-time.Minute)), "subdl")
	if status, resp := postIngest(t, st, evs); status != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "the subscription to dead-letter every event", 30*time.Second, func() bool {
		_, s := postBackfill(t, st, map[string]any{"dry_run": true})
		return s.Selected == len(evs)
	})
	st.Sink.SetFaults(mcmsink.Faults{})
	_, s := postBackfill(t, st, map[string]any{})
	if s.Resent != len(evs) || s.StopReason != backfill.StopDrained || s.MoreRemaining {
		t.Fatalf("backfill: %+v", s)
	}
	for _, e := range evs {
		if n := st.Sink.CountByID()[e["id"].(string)]; n != 1 {
			t.Errorf("%s delivered %d times", e["id"], n)
		}
	}
}

// Issue 28 point 5: `make dev` backfills on a schedule, as the cloud's
// scheduler does: events dead-lettered during an outage reach the platform
// after it recovers without anyone calling the backfill.
func TestScheduledBackfill(t *testing.T) {
	env := map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms",
		"FORWARDER_MAX_ATTEMPTS": "2", "FORWARDER_BREAKER_THRESHOLD": "10000", "BACKFILL_TIME_BUDGET": "1s"}
	st, err := Start(context.Background(), Config{PushMaxBackoff: 20 * time.Millisecond, Env: env, BackfillEvery: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	evs := relabel(events(10, time.Now().Add(-time.Minute)), "scheduled")
	deadLetterDuringOutage(t, st, evs)
	st.Sink.SetFaults(mcmsink.Faults{})
	waitFor(t, "every dead letter backfilled", 30*time.Second, func() bool {
		counts := st.Sink.CountByID()
		for _, e := range evs {
			if counts[e["id"].(string)] == 0 {
				return false
			}
		}
		return true
	})
}
