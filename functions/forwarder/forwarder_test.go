package forwarder

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/delivery"
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
	f, err := New(WithDefaults(Config{MaxAttempts: 5, BreakerThreshold: 3, BreakerCooldown: time.Minute}),
		Deps{Sender: s, DeadLetter: dlq, InvalidateKey: func() { invalidations++ }, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return f, s, dlq, &invalidations
}

func queued(attempt int) Delivery {
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
		{"400 dead-lettered at once", mcm.Result{Status: 400, Class: mcm.Permanent, Message: "missing search_query"}, 1, true, "dead_lettered", delivery.ClassPermanent, 0},
		{"404 dead-lettered", mcm.Result{Status: 404, Class: mcm.Permanent}, 1, true, "dead_lettered", delivery.ClassPermanent, 0},
		{"503 first attempt waits 5 s", mcm.Result{Status: 503, Class: mcm.Retryable}, 1, false, "retry", "", 5 * time.Second},
		{"503 third attempt waits 20 s", mcm.Result{Status: 503, Class: mcm.Retryable}, 3, false, "retry", "", 20 * time.Second},
		{"429 honours Retry-After", mcm.Result{Status: 429, Class: mcm.Retryable, RetryAfter: 90 * time.Second}, 1, false, "retry", "", 90 * time.Second},
		{"timeout retried", mcm.Result{Class: mcm.Retryable, Err: context.DeadlineExceeded}, 2, false, "retry", "", 10 * time.Second},
		{"last attempt dead-lettered", mcm.Result{Status: 500, Class: mcm.Retryable, Message: "boom"}, 5, true, "dead_lettered", delivery.ClassRetryable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _, dlq, _ := newForwarder(t, c.answer)
			d := f.Handle(context.Background(), queued(c.attempt))
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
			if a[delivery.AttrDLClass] != c.dlClass || a[queue.AttrEventID] != "evt-1" || a[delivery.AttrDLAttempts] == "" ||
				!bytes.Equal(msgs[0].Body, []byte(body)) {
				t.Fatalf("dead letter %v %s", a, msgs[0].Body)
			}
			if a[delivery.AttrDLStatus] != strconv.Itoa(c.answer.Status) {
				t.Fatalf("status %s, want %d", a[delivery.AttrDLStatus], c.answer.Status)
			}
		})
	}
}

func TestRotatedKeyReReadOnce(t *testing.T) {
	f, s, dlq, inval := newForwarder(t, mcm.Result{Status: 401, Class: mcm.AuthFailed}, mcm.Result{Status: 200, Class: mcm.Delivered})
	if d := f.Handle(context.Background(), queued(1)); !d.Ack || d.Outcome != "delivered" {
		t.Fatalf("decision %+v", d)
	}
	if *inval != 1 || s.calls != 2 || len(dlq.Messages()) != 0 {
		t.Fatalf("invalidations %d, calls %d", *inval, s.calls)
	}
	f, _, dlq, _ = newForwarder(t, mcm.Result{Status: 403, Class: mcm.AuthFailed})
	if d := f.Handle(context.Background(), queued(1)); !d.Ack || len(dlq.Messages()) != 1 ||
		dlq.Messages()[0].Attributes[delivery.AttrDLClass] != delivery.ClassAuth {
		t.Fatalf("a key that stays wrong must be dead-lettered: %+v", d)
	}
}

func TestRedeliveryAfterSuccessIsNotSentTwice(t *testing.T) {
	f, s, _, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	f.Handle(context.Background(), queued(1))
	if d := f.Handle(context.Background(), queued(2)); !d.Ack || d.Outcome != "duplicate" || s.calls != 1 {
		t.Fatalf("decision %+v after %d calls", d, s.calls)
	}
}

func TestUndecodableBodyDeadLettered(t *testing.T) {
	f, s, dlq, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	d := f.Handle(context.Background(), Delivery{MessageID: "m-9", Body: []byte("not json")})
	if !d.Ack || s.calls != 0 || len(dlq.Messages()) != 1 || dlq.Messages()[0].Attributes[delivery.AttrDLClass] != delivery.ClassUndecodable {
		t.Fatalf("decision %+v", d)
	}
}

func TestDeadLetterFailureKeepsTheMessage(t *testing.T) {
	f, _, dlq, _ := newForwarder(t, mcm.Result{Status: 400, Class: mcm.Permanent})
	dlq.FailWith(queue.ErrUnavailable)
	if d := f.Handle(context.Background(), queued(1)); d.Ack {
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

// pushRequest is a push delivery as Pub/Sub sends it.
func pushRequest(body io.Reader) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", body)
	r.Header.Set("Content-Type", "application/json")
	return r
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
		apicontract.Wrap(t, apicontract.Forwarder, f.PushHandler()).ServeHTTP(rec, pushRequest(bytes.NewReader(pushBody(t, 1))))
		if rec.Code != c.status {
			t.Fatalf("answer %d: status %d", c.answer.Status, rec.Code)
		}
	}
	f, _, _, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	// Any other method is refused, saying which one is served (the
	// contract requires Allow, as on every other function).
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Forwarder, f.PushHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost || errorCode(t, rec) != "method_not_allowed" {
		t.Fatalf("GET: %d, Allow %q, %s", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
	rec = httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Forwarder, f.PushHandler()).ServeHTTP(rec, pushRequest(strings.NewReader("{")))
	if rec.Code != http.StatusBadRequest || errorCode(t, rec) != "bad_request" {
		t.Fatalf("garbage push: %d %s", rec.Code, rec.Body)
	}
}

// Issue 25: the push endpoint's refusals and nacks were plain text where
// every other function answers JSON {"error","message"}; the status (what
// Pub/Sub reads: 2xx acks, anything else nacks) is unchanged.
func TestPushHandlerAnswersJSON(t *testing.T) {
	f, _, _, _ := newForwarder(t, mcm.Result{Status: 503, Class: mcm.Retryable})
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Forwarder, f.PushHandler()).ServeHTTP(rec, pushRequest(bytes.NewReader(pushBody(t, 1))))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || errorCode(t, rec) != "retry" {
		t.Fatalf("a retryable failure: %d, Retry-After %q, %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	for _, c := range []struct {
		req  *http.Request
		want string
	}{
		{httptest.NewRequest(http.MethodPut, "/", nil), "method_not_allowed"},
		{pushRequest(strings.NewReader(`"not an object"`)), "bad_request"},
	} {
		rec := httptest.NewRecorder()
		apicontract.Wrap(t, apicontract.Forwarder, f.PushHandler()).ServeHTTP(rec, c.req)
		if got := errorCode(t, rec); got != c.want || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %s, want JSON error %q", c.req.Method, rec.Code, rec.Header().Get("Content-Type"), rec.Body, c.want)
		}
	}
}

// errorCode is the "error" of a JSON answer ("" if the body is not one).
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var a struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.Message == "" {
		return ""
	}
	return a.Error
}

// Issue 28 point 1: an event is its source and id together. Another
// source's event with the same id is delivered, not acknowledged unsent as
// a duplicate; a copy of the same source's event is not sent twice.
func TestDeliveredSetTellsSourcesApart(t *testing.T) {
	f, s, dlq, _ := newForwarder(t, mcm.Result{Status: 200, Class: mcm.Delivered})
	from := func(source, msgID string) Delivery {
		d := queued(1)
		d.MessageID = msgID
		d.Attributes = map[string]string{queue.AttrEventID: "evt-1", queue.AttrEventType: "HOME", queue.AttrSource: source}
		return d
	}
	for _, c := range []struct {
		d    Delivery
		want string
	}{
		{from("web", "m-1"), "delivered"},
		{from("app", "m-2"), "delivered"},
		{from("web", "m-1"), "duplicate"}, // a redelivery
		{from("app", "m-2"), "duplicate"},
	} {
		if got := f.Handle(context.Background(), c.d); got.Outcome != c.want {
			t.Fatalf("%s from %s: %s, want %s", c.d.MessageID, c.d.Attributes[queue.AttrSource], got.Outcome, c.want)
		}
	}
	if s.calls != 2 || len(dlq.Messages()) != 0 {
		t.Fatalf("%d sends, %d dead letters", s.calls, len(dlq.Messages()))
	}
}

// Issue 28 point 1: ingest forgets an event after INGEST_DEDUPE_WINDOW and
// answers a later repeat "accepted"; the forwarder must send that one, not
// acknowledge it unsent as a duplicate of the first. Copies of the first
// acceptance (the same publish redelivered, a repeat within ingest's
// window that another instance took as new) are still not sent twice.
func TestRepeatAfterIngestWindowIsSent(t *testing.T) {
	clock := testNow
	s := &script{answers: []mcm.Result{{Status: 200, Class: mcm.Delivered}}}
	f, err := New(WithDefaults(Config{IngestWindow: 10 * time.Minute, DeliveredWindow: time.Hour}),
		Deps{Sender: s, DeadLetter: &queue.Memory{}, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	published := func(msgID string, at time.Time) Delivery {
		d := queued(1)
		d.MessageID, d.PublishTime = msgID, at
		d.Attributes[queue.AttrSource] = "web"
		return d
	}
	first := testNow
	for _, c := range []struct {
		d     Delivery
		after time.Duration // since the first publish
		want  string
	}{
		{published("m-1", first), 0, "delivered"},
		{published("m-1", first), 3 * time.Minute, "duplicate"},                      // redelivered
		{published("m-2", first.Add(4*time.Minute)), 4 * time.Minute, "duplicate"},   // within ingest's window
		{published("m-3", first.Add(11*time.Minute)), 11 * time.Minute, "delivered"}, // accepted anew
		{published("m-3", first.Add(11*time.Minute)), 12 * time.Minute, "duplicate"},
	} {
		clock = testNow.Add(c.after)
		if got := f.Handle(context.Background(), c.d); got.Outcome != c.want {
			t.Fatalf("%s published at +%s: %s, want %s", c.d.MessageID, c.d.PublishTime.Sub(first), got.Outcome, c.want)
		}
	}
	if s.calls != 2 {
		t.Fatalf("%d sends, want 2", s.calls)
	}
}
