package sqsstack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
)

// Retries in milliseconds: SQS visibility is whole seconds, so these are
// visible again at once.
var fastRetries = map[string]string{"FORWARDER_FIRST_BACKOFF": "10ms", "FORWARDER_MAX_BACKOFF": "20ms"}

// makeEvents makes n valid events of mixed types with ids sqs-<i>.
func makeEvents(n int, at time.Time) []map[string]any { return e2e.Events("sqs", "ios", n, at) }

func postIngest(t *testing.T, st *Stack, body any) (int, map[string]any) {
	t.Helper()
	return e2e.PostIngest(t, st.IngestURL, APIKey, body)
}

var waitFor = e2e.WaitFor

// deadLetters collects the dead-letter queue in the background.
type deadLetters struct {
	mu   sync.Mutex
	byID map[string][]DeadLetter // event id (or body, when it has none) → letters
}

func collectDeadLetters(t *testing.T, st *Stack) *deadLetters {
	d := &deadLetters{byID: map[string][]DeadLetter{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			dls, _ := st.TakeDeadLetters(ctx, time.Second)
			d.mu.Lock()
			for _, dl := range dls {
				key := dl.Attributes[queue.AttrEventID]
				if key == "" {
					key = dl.Body
				}
				d.byID[key] = append(d.byID[key], dl)
			}
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func (d *deadLetters) get(id string) []DeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byID[id]
}

func (d *deadLetters) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, l := range d.byID {
		n += len(l)
	}
	return n
}

func TestSQSPipelineDeliversByteCorrect(t *testing.T) {
	st := Start(t, Config{Env: fastRetries})
	dl := collectDeadLetters(t, st)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	evs := makeEvents(40, at)
	status, resp := postIngest(t, st, evs)
	if status != http.StatusAccepted || len(resp["accepted"].([]any)) != 40 {
		t.Fatalf("ingest: %d %v", status, resp)
	}
	waitFor(t, "40 deliveries", 20*time.Second, func() bool { return st.Sink.Stats().Accepted >= 40 })
	e2e.CheckDeliveredByteCorrect(t, st.Sink, evs, at, PIISalt)
	// Every message was deleted after its delivery: the queue is empty and
	// nothing was dead-lettered.
	waitFor(t, "the events queue to drain", 5*time.Second, func() bool { return st.Poller.Stats().Deleted >= 40 })
	out, err := st.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.EventsURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	if a := out.Attributes; a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("events queue not empty: %v", a)
	}
	if s := st.Poller.Stats(); s.Failed != 0 || s.BatchFailures != 0 || dl.count() != 0 {
		t.Fatalf("poller %+v, %d dead letters", s, dl.count())
	}
}

func TestSQSPipelineUnderFaultsLosesNothing(t *testing.T) {
	// 5 attempts: at a 35% failure rate some events should exhaust them, so
	// the forwarder's own dead-lettering is exercised too.
	env := map[string]string{"FORWARDER_MAX_ATTEMPTS": "5"}
	for k, v := range fastRetries {
		env[k] = v
	}
	st := Start(t, Config{Env: env, MaxReceiveCount: 10})
	dl := collectDeadLetters(t, st)
	st.Sink.SetFaults(mcmsink.Faults{Rate5xx: 0.30, Rate429: 0.05, RetryAfter: time.Second, Seed: 42})
	evs := makeEvents(200, time.Now().Add(-time.Minute))
	for i := 0; i < len(evs); i += 50 {
		if status, resp := postIngest(t, st, evs[i:i+50]); status != http.StatusAccepted {
			t.Fatalf("ingest: %d %v", status, resp)
		}
	}
	settled := func() (delivered, deadLettered int) {
		counts := st.Sink.CountByID()
		for _, e := range evs {
			id := e["id"].(string)
			if counts[id] > 0 {
				delivered++
			} else if len(dl.get(id)) > 0 {
				deadLettered++
			}
		}
		return
	}
	waitFor(t, "every event delivered or dead-lettered", 60*time.Second, func() bool {
		d, l := settled()
		return d+l == len(evs)
	})
	d, l := settled()
	stats, ps := st.Sink.Stats(), st.Poller.Stats()
	t.Logf("delivered %d, dead-lettered %d; sink saw %d requests, injected %d 5xx and %d 429; poller: %+v",
		d, l, stats.Requests, stats.Injected5xx, stats.Injected429, ps)
	for id, n := range st.Sink.CountByID() {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
	for _, e := range evs {
		id := e["id"].(string)
		letters := dl.get(id)
		if len(letters) > 1 || len(letters) == 1 && st.Sink.CountByID()[id] > 0 {
			t.Fatalf("%s: delivered %d times and dead-lettered %d times", id, st.Sink.CountByID()[id], len(letters))
		}
		for _, x := range letters {
			// Dead-lettered by the forwarder (with its reason), never by the
			// queue's redrive, which carries no reason.
			if x.Attributes[delivery.AttrDLClass] != delivery.ClassRetryable || x.Attributes[delivery.AttrDLReason] == "" ||
				x.Attributes[delivery.AttrDLAttempts] != "5" {
				t.Fatalf("dead letter of %s without its reason: %v", id, x.Attributes)
			}
		}
	}
	if stats.Injected5xx == 0 || stats.Injected429 == 0 || ps.Failed == 0 {
		t.Fatal("no faults were injected or retried: the test proves nothing")
	}
	// Nothing left behind: the queue is empty once every event settled.
	waitFor(t, "the events queue to drain", 10*time.Second, func() bool {
		out, err := st.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.EventsURL),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		return err == nil && out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
	})
	if got := dl.count(); got != l {
		t.Fatalf("%d dead letters for %d dead-lettered events", got, l)
	}
}

func TestSQSPermanentRejectionDeadLetteredOnFirstTry(t *testing.T) {
	st := Start(t, Config{Env: fastRetries})
	dl := collectDeadLetters(t, st)
	// Ingest would refuse this event, so it goes straight onto the queue,
	// as a bug in our own mapping would put it there.
	bad := fmt.Sprintf(`{"id":"bad-1","event_type":"SEARCH","timestamp":%d,"channel_type":"SITE","user_id":"u"}`, time.Now().UnixMilli())
	_, err := st.Client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(st.EventsURL), MessageBody: aws.String(bad),
		MessageAttributes: map[string]types.MessageAttributeValue{
			queue.AttrEventID:   {DataType: aws.String("String"), StringValue: aws.String("bad-1")},
			queue.AttrEventType: {DataType: aws.String("String"), StringValue: aws.String("SEARCH")}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead letter", 15*time.Second, func() bool { return len(dl.get("bad-1")) > 0 })
	letters := dl.get("bad-1")
	a := letters[0].Attributes
	if len(letters) != 1 || a[delivery.AttrDLClass] != delivery.ClassPermanent || a[delivery.AttrDLStatus] != "400" ||
		a[delivery.AttrDLAttempts] != "1" || !strings.Contains(a[delivery.AttrDLReason], "search_query") ||
		a[queue.AttrEventType] != "SEARCH" || letters[0].Body != bad {
		t.Fatalf("dead letters %v", letters)
	}
	if st.Sink.Stats().Rejected4xx != 1 || st.Poller.Stats().Failed != 0 {
		t.Fatalf("sent %d times; poller %+v", st.Sink.Stats().Rejected4xx, st.Poller.Stats())
	}
}
