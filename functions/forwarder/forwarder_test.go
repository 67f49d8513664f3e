package forwarder

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const body = `{"id":"evt-1","event_type":"HOME","timestamp":1795348700000,"channel_type":"SITE","user_id":"u"}`

// script answers sends in order, then repeats the last answer.
type script struct {
	mu      sync.Mutex
	answers []mcm.Result
	calls   int
}

func (s *script) Send(_ context.Context, _ []byte) mcm.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := min(s.calls, len(s.answers)-1)
	s.calls++
	return s.answers[i]
}

func newForwarder(t testing.TB, answers ...mcm.Result) (*Forwarder, *script, *queue.Memory, *int) {
	t.Helper()
	s := &script{answers: answers}
	dlq := &queue.Memory{}
	invalidations := 0
	f, err := New(Config{MaxAttempts: 5, BreakerThreshold: 3, BreakerCooldown: time.Minute},
		Deps{Sender: s, DeadLetter: dlq, InvalidateKey: func() { invalidations++ }, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return f, s, dlq, &invalidations
}

func delivery(attempt int) Delivery {
	return Delivery{MessageID: "m-1", Body: []byte(body), Attempt: attempt,
		Attributes: map[string]string{queue.AttrEventID: "evt-1", queue.AttrEventType: "HOME"}}
}

func TestClassification(t *testing.T) {
	cases := []struct {
		name     string
		answer   mcm.Result
		attempt  int
		ack      bool
		outcome  string
		dlClass  string
		minRetry time.Duration
	}{
		{"delivered", mcm.Result{Status: 200, Class: mcm.Delivered}, 1, true, "delivered", "", 0},
		{"400 dead-lettered at once", mcm.Result{Status: 400, Class: mcm.Permanent, Message: "missing search_query"}, 1, true, "dead_lettered", ClassPermanent, 0},
		{"404 dead-lettered", mcm.Result{Status: 404, Class: mcm.Permanent}, 1, true, "dead_lettered", ClassPermanent, 0},
		{"503 first attempt waits 5 s", mcm.Result{Status: 503, Class: mcm.Retryable}, 1, false, "retry", "", 5 * time.Second},
		{"503 third attempt waits 20 s", mcm.Result{Status: 503, Class: mcm.Retryable}, 3, false, "retry", "", 20 * time.Second},
		{"429 honours Retry-After", mcm.Result{Status: 429, Class: mcm.Retryable, RetryAfter: 90 * time.Second}, 1, false, "retry", "", 90 * time.Second},
		{"timeout retried", mcm.Result{Class: mcm.Retryable, Err: context.DeadlineExceeded}, 2, false, "retry", "", 10 * time.Second},
		{"last attempt dead-lettered", mcm.Result{Status: 500, Class: mcm.Retryable, Message: "boom"}, 5, true, "dead_lettered", ClassRetryable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _, dlq, _ := newForwarder(t, c.answer)
			d := f.Handle(context.Background(), delivery(c.attempt))
			if d.Ack != c.ack || d.Outcome != c.outcome || d.RetryAfter < c.minRetry {
				t.Fatalf("decision %+v", d)
			}
			msgs := dlq.Messages()
			if c.dlClass == "" {
				if len(msgs) != 0 {
					t.Fatalf("dead-lettered %v", msgs)
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("%d dead-lettered", len(msgs))
			}
			a := msgs[0].Attributes
			if a[AttrDLClass] != c.dlClass || a[queue.AttrEventID] != "evt-1" || a[AttrDLAttempts] == "" ||
				!bytes.Equal(msgs[0].Body, []byte(body)) {
				t.Fatalf("dead letter %v %s", a, msgs[0].Body)
			}
			if a[AttrDLStatus] != strconv.Itoa(c.answer.Status) {
				t.Fatalf("status %s, want %d", a[AttrDLStatus], c.answer.Status)
			}
		})
	}
}

func TestRotatedKeyReReadOnce(t *testing.T) {
	f, s, dlq, inval := newForwarder(t, mcm.Result{Status: 401, Class: mcm.AuthFailed}, mcm.Result{Status: 200, Class: mcm.Delivered})
	if d := f.Handle(context.Background(), delivery(1)); !d.Ack || d.Outcome != "delivered" {
		t.Fatalf("decision %+v", d)
	}
	if *inval != 1 || s.calls != 2 || len(dlq.Messages()) != 0 {
		t.Fatalf("invalidations %d, calls %d", *inval, s.calls)
	}
	f, _, dlq, _ = newForwarder(t, mcm.Result{Status: 403, Class: mcm.AuthFailed})
	if d := f.Handle(context.Background(), delivery(1)); !d.Ack || len(dlq.Messages()) != 1 ||
		dlq.Messages()[0].Attributes[AttrDLClass] != ClassAuth {
		t.Fatalf("a key that stays wrong must be dead-lettered: %+v", d)
	}
}

func TestRedeliveryAfterSuccessIsNotSentTwice(t *testing.T) {
	f, s, _, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	f.Handle(context.Background(), delivery(1))
	if d := f.Handle(context.Background(), delivery(2)); !d.Ack || d.Outcome != "duplicate" || s.calls != 1 {
		t.Fatalf("decision %+v after %d calls", d, s.calls)
	}
}

func TestUndecodableBodyDeadLettered(t *testing.T) {
	f, s, dlq, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	d := f.Handle(context.Background(), Delivery{MessageID: "m-9", Body: []byte("not json")})
	if !d.Ack || s.calls != 0 || len(dlq.Messages()) != 1 || dlq.Messages()[0].Attributes[AttrDLClass] != ClassUndecodable {
		t.Fatalf("decision %+v", d)
	}
}

func TestDeadLetterFailureKeepsTheMessage(t *testing.T) {
	f, _, dlq, _ := newForwarder(t, mcm.Result{Status: 400, Class: mcm.Permanent})
	dlq.FailWith(queue.ErrUnavailable)
	if d := f.Handle(context.Background(), delivery(1)); d.Ack {
		t.Fatalf("acknowledged a message it could not dead-letter: %+v", d)
	}
}

func pushBody(t *testing.T, attempt int) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{
		"subscription": "projects/p/subscriptions/eventrelay-forwarder",
		"message": map[string]any{"data": base64.StdEncoding.EncodeToString([]byte(body)),
			"attributes": map[string]string{queue.AttrEventID: "evt-1"}, "messageId": "m-1",
			"publishTime": "2026-11-22T11:59:00Z"},
		"deliveryAttempt": attempt,
	})
	return b
}

func TestPushHandler(t *testing.T) {
	for _, c := range []struct {
		answer mcm.Result
		status int
	}{
		{mcm.Result{Status: 200, Class: mcm.Delivered}, http.StatusNoContent},
		{mcm.Result{Status: 400, Class: mcm.Permanent}, http.StatusNoContent},
		{mcm.Result{Status: 503, Class: mcm.Retryable}, http.StatusServiceUnavailable},
	} {
		f, _, _, _ := newForwarder(t, c.answer)
		rec := httptest.NewRecorder()
		f.PushHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(pushBody(t, 1))))
		if rec.Code != c.status {
			t.Fatalf("answer %d: status %d", c.answer.Status, rec.Code)
		}
	}
	f, _, _, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	rec := httptest.NewRecorder()
	f.PushHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{")))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("garbage push: %d", rec.Code)
	}
}

func TestCloudEvent(t *testing.T) {
	f, _, _, _ := newForwarder(t, mcm.Result{Status: 503, Class: mcm.Retryable}, mcm.Result{Status: 200, Class: mcm.Delivered})
	e := cloudevents.New()
	e.SetID("ce-1")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
	if err := e.SetData("application/json", json.RawMessage(pushBody(t, 1))); err != nil {
		t.Fatal(err)
	}
	if err := f.HandleCloudEvent(context.Background(), e); err == nil {
		t.Fatal("a retryable failure must nack")
	}
	if err := f.HandleCloudEvent(context.Background(), e); err != nil {
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
	json.Unmarshal(body, &e)
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
	f, _ := New(Config{MaxAttempts: 5}, Deps{Sender: answers, DeadLetter: dlq})
	var ev events.SQSEvent
	for _, id := range []string{"ok-1", "bad-1", "busy", "ok-2"} {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m-" + id, ReceiptHandle: "rh-" + id,
			Body:       strings.Replace(body, "evt-1", id, 1),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	vis := &visibility{set: map[string]time.Duration{}, err: errors.New("ignored: still reported")}
	resp, err := f.HandleSQS(context.Background(), ev, vis, 4)
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
