package sqssource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/internal/sqsstack"
	_ "eventrelay.dev/eventrelay/internal/wiring/aws"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
)

// The SQS dead-letter path end to end: ingest → SQS → the forwarder
// (polled like an event source mapping) fails during an outage and
// dead-letters; the backfill, built by setup from its settings with the
// real SQS client, counts without changing anything, re-parks what fails
// again, respects its rate cap, and after recovery delivers every event
// exactly once with its id and original timestamp.
//
// It runs on moto, not goaws: it counts, re-parks and deletes dead letters
// and needs SQS's delivery semantics for that (see internal/sqsstack).
func TestBackfillOnSQS(t *testing.T) {
	st := sqsstack.Start(t, sqsstack.Config{Server: sqsstack.ServerMoto, Env: map[string]string{"FORWARDER_MAX_ATTEMPTS": "2",
		"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms", "FORWARDER_BREAKER_THRESHOLD": "10000"}})
	env := map[string]string{"BACKFILL_QUEUE_URL": st.DeadLetterURL, "BACKFILL_TIME_BUDGET": "2s", "BACKFILL_RATE": "200"}
	for k, v := range st.Env {
		env[k] = v
	}
	fn, err := setup.NewBackfill(context.Background(), config.FromMap(env), setup.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fn.Close() })
	run := func(p backfill.Params) backfill.Summary {
		t.Helper()
		s, err := fn.Core.Run(context.Background(), p)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		return s
	}

	const n = 20
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	ingest(t, st, n, at)
	waitFor(t, "every event dead-lettered", 60*time.Second, func() bool { return run(backfill.Params{DryRun: true}).Scanned == n })

	// A dry run changes nothing: the next one sees the same, and the
	// platform saw no call from either.
	requests := st.Sink.Stats().Requests
	if s := run(backfill.Params{DryRun: true}); s.Scanned != n || s.Selected != n || s.Resent != 0 || st.Sink.Stats().Requests != requests {
		t.Fatalf("dry run: %+v", s)
	}

	// Still down: what is tried is re-parked with the new reason and one
	// more attempt; nothing is lost.
	before := peek(t, st)
	s := run(backfill.Params{})
	if s.StillFailing[delivery.ClassRetryable] < 1 || s.Resent != 0 {
		t.Fatalf("run during the outage: %+v", s)
	}
	t.Logf("during the outage: %+v", s)
	after := peek(t, st)
	if len(before) != n || len(after) != n {
		t.Fatalf("%d dead letters before the run, %d after", len(before), len(after))
	}
	reparked := 0
	for id, a := range after {
		was := before[id]
		if a[delivery.AttrDLAttempts] == was[delivery.AttrDLAttempts] {
			continue // not reached before the run stopped
		}
		reparked++
		if fmt.Sprint(atoi(was[delivery.AttrDLAttempts])+1) != a[delivery.AttrDLAttempts] ||
			a[delivery.AttrDLClass] != delivery.ClassRetryable || a[delivery.AttrDLStatus] != "503" ||
			strings.HasPrefix(a[delivery.AttrDLReason], "gave up") {
			t.Fatalf("%s re-parked as %v (was %v)", id, a, was)
		}
	}
	if reparked != s.StillFailing[delivery.ClassRetryable] {
		t.Fatalf("%d re-parked, the summary says %d", reparked, s.StillFailing[delivery.ClassRetryable])
	}

	// Recovered. A capped run sends at most rate × budget (+1 burst).
	st.Sink.SetFaults(mcmsink.Faults{})
	s = run(backfill.Params{Rate: 2})
	if s.Resent < 1 || s.Resent > 2*2+1 || !s.MoreRemaining || st.Sink.Stats().Accepted != s.Resent {
		t.Fatalf("capped run: %+v", s)
	}
	t.Logf("capped: %+v", s)
	first := s.Resent
	s = run(backfill.Params{})
	if s.Resent != n-first || s.MoreRemaining {
		t.Fatalf("last run: %+v", s)
	}
	counts := st.Sink.CountByID()
	for i := range n {
		if c := counts[fmt.Sprintf("sqs-bf-%02d", i)]; c != 1 {
			t.Fatalf("sqs-bf-%02d delivered %d times", i, c)
		}
	}
	for _, r := range st.Sink.Accepted() {
		var got struct {
			Timestamp int64 `json:"timestamp"`
		}
		json.Unmarshal(r.Body, &got)
		if got.Timestamp != at.UnixMilli() {
			t.Fatalf("%s arrived with timestamp %d, want %d", r.ID, got.Timestamp, at.UnixMilli())
		}
	}
	if s := run(backfill.Params{DryRun: true}); s.Scanned != 0 {
		t.Fatalf("the queue is not empty: %+v", s)
	}
}

func ingest(t *testing.T, st *sqsstack.Stack, n int, at time.Time) {
	t.Helper()
	var evs []map[string]any
	for i := range n {
		evs = append(evs, map[string]any{"id": fmt.Sprintf("sqs-bf-%02d", i), "event_type": "PAGE_VIEW", "page_id": "home",
			"timestamp": at.UnixMilli(), "channel_type": "SITE", "user_id": fmt.Sprintf("user-%d", i)})
	}
	b, _ := json.Marshal(evs)
	req, _ := http.NewRequest(http.MethodPost, st.IngestURL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", sqsstack.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest answered %s", resp.Status)
	}
}

// peek reads every dead letter's attributes by event id and hands the
// messages back.
func peek(t *testing.T, st *sqsstack.Stack) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]map[string]string{}
	var handles []*string
	for {
		resp, err := st.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.DeadLetterURL),
			MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Messages) == 0 {
			break
		}
		for _, m := range resp.Messages {
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[k] = aws.ToString(v.StringValue)
			}
			out[attrs["event_id"]] = attrs
			handles = append(handles, m.ReceiptHandle)
		}
	}
	for _, h := range handles {
		if _, err := st.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(st.DeadLetterURL),
			ReceiptHandle: h, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

var waitFor = e2e.WaitFor
