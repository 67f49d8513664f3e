package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/lambdaharness"
	"eventrelay.dev/eventrelay/internal/sqsstack"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/sqsqueue"
)

// TestBackfillBootstrap runs EVENTRELAY_FUNCTION=backfill through the
// Lambda Runtime API as EventBridge Scheduler invokes it: the input is the
// parameters object (or nothing), the answer the summary.
func TestBackfillBootstrap(t *testing.T) {
	bin := lambdaharness.Bootstrap(t)
	st := sqsstack.Start(t, sqsstack.Config{NoPoller: true})
	// Three dead letters as the forwarder parks them.
	var msgs []queue.Message
	for i := range 3 {
		id := fmt.Sprintf("lambda-bf-%d", i)
		body := fmt.Sprintf(`{"id":%q,"event_type":"PAGE_VIEW","page_id":"home","timestamp":%d,"channel_type":"SITE","user_id":"u-%d"}`,
			id, time.Now().Add(-time.Minute).UnixMilli(), i)
		msgs = append(msgs, queue.Message{ID: id, Body: []byte(body), Attributes: map[string]string{queue.AttrEventID: id,
			delivery.AttrDLClass: delivery.ClassRetryable, delivery.AttrDLAttempts: "8", delivery.AttrDLStatus: "503"}})
	}
	for _, err := range sqsqueue.New(st.Client, st.DeadLetterURL).Publish(context.Background(), msgs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	rt := start(t, bin, append(st.LambdaEnv("backfill"), "BACKFILL_QUEUE_URL="+st.DeadLetterURL, "BACKFILL_TIME_BUDGET=5s"))
	summary := func(payload string) backfill.Summary {
		t.Helper()
		var s backfill.Summary
		if err := json.Unmarshal(invoke(t, rt, []byte(payload)), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := summary(`{"dry_run":true}`); !s.DryRun || s.Selected != 3 || s.Resent != 0 {
		t.Fatalf("dry run: %+v", s)
	}
	if s := summary(``); s.Resent != 3 || s.MoreRemaining { // a schedule without input: the defaults
		t.Fatalf("run: %+v", s)
	}
	for _, m := range msgs {
		if n := st.Sink.CountByID()[m.ID]; n != 1 {
			t.Fatalf("%s delivered %d times", m.ID, n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if res, err := rt.Invoke(ctx, []byte(`{"dryrun":true}`)); err != nil || !res.IsError {
		t.Fatalf("a misspelt parameter: %s %v, want an error", res.Payload, err)
	}
}
