package sqssource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/internal/sqsstack"
	_ "eventrelay.dev/eventrelay/internal/wiring/aws"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/settings"
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
	fn, err := setup.NewBackfill(context.Background(), settings.FromMap(env), setup.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, fn)
	run := func(p backfill.Params) backfill.Summary {
		t.Helper()
		s, err := fn.Core.Run(context.Background(), p)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		// Whatever the run held, it deleted or handed back: a message
		// still hidden would only show up after its visibility timeout.
		if n := hidden(t, st); n != 0 {
			t.Fatalf("%d dead letters still hidden after the run: %+v", n, s)
		}
		return s
	}

	const n = 20
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	st.Sink.SetFaults(mcmsink.Faults{Down: true})
	ingest(t, st, n, at)
	waitFor(t, "every event dead-lettered", 60*time.Second, func() bool { return run(backfill.Params{DryRun: true}).Scanned == n })
	// From here on only the backfill writes to the dead-letter queue. The
	// forwarder may have dead-lettered an event twice: SQS delivers at least
	// once, and on a loaded machine an events batch can outlast the events
	// queue's visibility timeout and reach a second invocation. So what
	// follows tells dead letters apart by message id, never by event id.
	st.StopPoller()

	// A dry run changes nothing: the next one sees the same, and the
	// platform saw no call from either.
	requests := st.Sink.Stats().Requests
	if s := run(backfill.Params{DryRun: true}); s.Scanned != n || s.Selected != n || s.Resent != 0 || st.Sink.Stats().Requests != requests {
		t.Fatalf("dry run: %+v", s)
	}

	// Still down: what is tried is re-parked with the new reason and one
	// more attempt, and its old message is deleted; nothing is lost.
	before := peek(t, st)
	s := run(backfill.Params{})
	if s.StillFailing[delivery.ClassRetryable] < 1 || s.Resent != 0 {
		t.Fatalf("run during the outage: %+v", s)
	}
	t.Logf("during the outage: %+v", s)
	after := peek(t, st)
	if b, a := copies(before), copies(after); len(b) != n || len(a) != n {
		t.Fatalf("%d events dead-lettered before the run, %d after", len(b), len(a))
	}
	if reparked := reparkedIn(t, before, after); reparked != s.StillFailing[delivery.ClassRetryable] {
		t.Fatalf("%d re-parked, the summary says %d", reparked, s.StillFailing[delivery.ClassRetryable])
	}

	// Recovered. A capped run sends at most rate × budget (+1 burst). On a
	// loaded machine a receive can take most of the 2 s, so capped runs
	// repeat until one has sent something.
	st.Sink.SetFaults(mcmsink.Faults{})
	resent := 0
	for runs := 1; resent == 0; runs++ {
		if runs > 5 {
			t.Fatalf("5 capped runs resent nothing: %+v", s)
		}
		s = run(backfill.Params{Rate: 2})
		if s.Resent > 2*2+1 || !s.MoreRemaining {
			t.Fatalf("capped run: %+v", s)
		}
		resent += s.Resent
	}
	if accepted := st.Sink.Stats().Accepted; accepted != resent {
		t.Fatalf("the capped runs say %d resent, the platform accepted %d", resent, accepted)
	}
	t.Logf("capped: %+v", s)
	// The rest, in as many runs as the budget needs (a loaded machine fits
	// fewer sends in 2 s). No run sends an event twice; across runs, an
	// event is sent once per dead letter it had at most (Moloco
	// de-duplicates by id), so once when it had one.
	for runs := 1; s.MoreRemaining; runs++ {
		if runs > 20 {
			t.Fatalf("more remaining after 20 runs: %+v", s)
		}
		was := st.Sink.CountByID()
		s = run(backfill.Params{})
		for id, c := range st.Sink.CountByID() {
			if c-was[id] > 1 {
				t.Fatalf("%s delivered %d times in one run: %+v", id, c-was[id], s)
			}
		}
		resent += s.Resent
	}
	counts, letters := st.Sink.CountByID(), copies(after)
	for i := range n {
		id := fmt.Sprintf("sqs-bf-%02d", i)
		if c := counts[id]; c < 1 || c > letters[id] {
			t.Fatalf("%s delivered %d times from %d dead letters", id, c, letters[id])
		}
	}
	if accepted := st.Sink.Stats().Accepted; resent != accepted {
		t.Fatalf("the runs say %d resent, the platform accepted %d", resent, accepted)
	}
	for _, r := range st.Sink.Accepted() {
		var got struct {
			Timestamp int64 `json:"timestamp"`
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
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

// peek reads every dead letter's attributes by message id and hands the
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
			out[aws.ToString(m.MessageId)] = attrs
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

// hidden is how many dead letters are in flight (received, not deleted,
// not yet visible again).
func hidden(t *testing.T, st *sqsstack.Stack) int {
	t.Helper()
	out, err := st.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.DeadLetterURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	return atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
}

// copies counts dead letters by event id.
func copies(letters map[string]map[string]string) map[string]int {
	out := map[string]int{}
	for _, a := range letters {
		out[a[queue.AttrEventID]]++
	}
	return out
}

// reparkedIn checks what a run changed on the queue, from the dead letters
// before and after it (by message id), and returns how many it re-parked.
// A re-park is a new message with one more attempt and the new reason,
// whose event lost exactly one older message, the copy it replaces; every
// other message is still there.
func reparkedIn(t *testing.T, before, after map[string]map[string]string) int {
	t.Helper()
	gone := map[string][]map[string]string{} // event id → its deleted messages
	for m, was := range before {
		if _, ok := after[m]; !ok {
			gone[was[queue.AttrEventID]] = append(gone[was[queue.AttrEventID]], was)
		}
	}
	reparked := 0
	for m, a := range after {
		if _, ok := before[m]; ok {
			continue
		}
		reparked++
		id := a[queue.AttrEventID]
		if a[delivery.AttrDLClass] != delivery.ClassRetryable || a[delivery.AttrDLStatus] != "503" ||
			strings.HasPrefix(a[delivery.AttrDLReason], "gave up") || len(gone[id]) != 1 ||
			atoi(gone[id][0][delivery.AttrDLAttempts])+1 != atoi(a[delivery.AttrDLAttempts]) {
			t.Fatalf("%s re-parked as %v; its deleted messages: %v", id, a, gone[id])
		}
		delete(gone, id)
	}
	for id, olds := range gone {
		t.Fatalf("%s: %d dead letters deleted, none re-parked: %v", id, len(olds), olds)
	}
	return reparked
}

// atoi reads a count SQS sends as text; what is not a number reads as -1,
// which no count the tests expect equals.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

var waitFor = e2e.WaitFor
