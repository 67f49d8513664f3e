package forwarder_test

// The trigger adapters (functions/forwarder/eventarc, lambdasqs) with the
// real core; an external test package, as the adapters import the core.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/functions/forwarder/eventarc"
	"eventrelay.dev/eventrelay/functions/forwarder/lambdasqs"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
)

func newForwarder(t testing.TB, s delivery.Sender, dlq *queue.Memory) *forwarder.Forwarder {
	t.Helper()
	f, err := forwarder.New(forwarder.WithDefaults(forwarder.Config{MaxAttempts: 5}), forwarder.Deps{Sender: s, DeadLetter: dlq,
		Now: func() time.Time { return forwarder.TestNow }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCloudEvent(t *testing.T) {
	f := newForwarder(t, forwarder.NewScript(mcm.Result{Status: 503, Class: mcm.Retryable}, mcm.Result{Status: 200, Class: mcm.Delivered}), &queue.Memory{})
	e := cloudevents.New()
	e.SetID("ce-1")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
	if err := e.SetData("application/json", json.RawMessage(forwarder.PushBody(t, 1))); err != nil {
		t.Fatal(err)
	}
	if err := eventarc.Handle(context.Background(), f, e); err == nil {
		t.Fatal("a retryable failure must nack")
	}
	if err := eventarc.Handle(context.Background(), f, e); err != nil {
		t.Fatalf("delivered: %v", err)
	}
}

type visibility struct {
	mu  sync.Mutex
	set map[string]time.Duration
	err error
}

func (v *visibility) ChangeVisibility(_ context.Context, handle string, after time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.set[handle] = after
	return v.err
}

// bySend answers per event id.
type bySend map[string]mcm.Result

func (b bySend) Send(_ context.Context, body []byte) mcm.Result {
	var e struct{ ID string }
	if err := json.Unmarshal(body, &e); err != nil {
		return mcm.Result{Class: mcm.Permanent, Message: "test stand-in: body is not JSON", Err: err}
	}
	return b[e.ID]
}

func TestSQSBatchItemFailures(t *testing.T) {
	answers := bySend{
		"ok-1":  {Status: 200, Class: mcm.Delivered},
		"bad-1": {Status: 400, Class: mcm.Permanent},
		"busy":  {Status: 429, Class: mcm.Retryable, RetryAfter: 30 * time.Second},
		"ok-2":  {Status: 200, Class: mcm.Delivered},
	}
	dlq := &queue.Memory{}
	f := newForwarder(t, answers, dlq)
	var ev events.SQSEvent
	for _, id := range []string{"ok-1", "bad-1", "busy", "ok-2"} {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m-" + id, ReceiptHandle: "rh-" + id,
			Body:       strings.Replace(forwarder.Body, "evt-1", id, 1),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	vis := &visibility{set: map[string]time.Duration{}, err: errors.New("ignored: still reported")}
	resp, err := lambdasqs.Handle(context.Background(), f, ev, vis, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-busy" {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	if vis.set["rh-busy"] != 30*time.Second || len(vis.set) != 1 {
		t.Fatalf("visibility %v", vis.set)
	}
	if len(dlq.Messages()) != 1 || dlq.Messages()[0].ID != "bad-1" {
		t.Fatalf("dead letters %v", dlq.Messages())
	}
}

// Issue 11 point 5: an Eventarc event that is not a Pub/Sub message was
// acknowledged and dropped.
func TestUndecodableCloudEventDeadLettered(t *testing.T) {
	s := &countingSender{}
	dlq := &queue.Memory{}
	f := newForwarder(t, s, dlq)
	e := cloudevents.New()
	e.SetID("ce-9")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
	raw := `{"message":"not an object"}`
	if err := e.SetData("application/json", json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	if err := eventarc.Handle(context.Background(), f, e); err != nil {
		t.Fatalf("dead-lettered events are acknowledged: %v", err)
	}
	msgs := dlq.Messages()
	if s.calls.Load() != 0 || len(msgs) != 1 || msgs[0].Attributes[delivery.AttrDLClass] != delivery.ClassUndecodable ||
		string(msgs[0].Body) != raw || msgs[0].Attributes["ce_id"] != "ce-9" || msgs[0].Attributes[delivery.AttrDLReason] == "" {
		t.Fatalf("dead letters %+v", msgs)
	}
	// If the dead-letter topic fails, the event is nacked, not dropped.
	dlq.FailWith(fmt.Errorf("%w: down", queue.ErrUnavailable))
	if err := eventarc.Handle(context.Background(), f, e); err == nil || !strings.Contains(err.Error(), "ce-9") {
		t.Fatalf("want a nack naming the event, got %v", err)
	}
}

// countingSender counts sends and delivers every one.
type countingSender struct{ calls atomic.Int64 }

func (c *countingSender) Send(context.Context, []byte) mcm.Result {
	c.calls.Add(1)
	return mcm.Result{Status: 200, Class: mcm.Delivered}
}

// Issue 28 point 3: an Eventarc trigger sends no deliveryAttempt (nor does
// a push subscription without a dead-letter policy). A message the
// platform keeps failing must still reach our dead letter, with its
// reason, once it is as old as the forwarder's attempts take, rather than
// be retried until the subscription's retention drops it.
func TestCloudEventWithoutAttemptIsDeadLettered(t *testing.T) {
	dlq := &queue.Memory{}
	f := newForwarder(t, forwarder.NewScript(mcm.Result{Status: 503, Class: mcm.Retryable}), dlq)
	for _, c := range []struct {
		age  time.Duration
		dead bool
	}{{time.Second, false}, {30 * time.Second, false}, {2 * time.Hour, true}} {
		var m forwarder.MessagePublishedData
		if err := json.Unmarshal(forwarder.PushBody(t, 0), &m); err != nil {
			t.Fatal(err)
		}
		m.DeliveryAttempt = 0
		m.Message.PublishTime = forwarder.TestNow.Add(-c.age)
		e := cloudevents.New()
		e.SetID("ce-2")
		e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
		e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
		if err := e.SetData("application/json", m); err != nil {
			t.Fatal(err)
		}
		err := eventarc.Handle(context.Background(), f, e)
		if dead := err == nil; dead != c.dead {
			t.Fatalf("published %s ago: acknowledged %v (%v), want %v", c.age, dead, err, c.dead)
		}
	}
	msgs := dlq.Messages()
	if len(msgs) != 1 || msgs[0].Attributes[delivery.AttrDLClass] != delivery.ClassRetryable ||
		msgs[0].Attributes[delivery.AttrDLAttempts] != "5" {
		t.Fatalf("dead letters %+v", msgs)
	}
}
