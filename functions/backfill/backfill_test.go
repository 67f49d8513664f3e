package backfill

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
)

// fakeQueue is a dead-letter queue in memory. It is also the re-park
// publisher, so a re-parked event lands in the queue being drained, as it
// does on Pub/Sub (topic → the backfill subscription) and SQS.
type fakeQueue struct {
	mu       sync.Mutex
	next     int
	msgs     map[string]*qmsg // by handle
	acked    []string         // event ids, in order
	released int
	failPub  error
	accepted func(id string) bool // what the platform accepted so far
	// pull, when set, is the most one receive returns, newest first: a
	// Pub/Sub pull may answer with fewer messages than the queue holds.
	pull       int
	ackedEarly []string // acked before the platform accepted or it was re-parked
	reparked   map[string]bool
}

type qmsg struct {
	item     Item
	seq      int // the order it was added in
	inFlight bool
}

func newQueue() *fakeQueue {
	return &fakeQueue{msgs: map[string]*qmsg{}, reparked: map[string]bool{}}
}

func (q *fakeQueue) add(body string, attrs map[string]string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next++
	h := fmt.Sprintf("h-%d", q.next)
	q.msgs[h] = &qmsg{seq: q.next, item: Item{Delivery: forwarder.Delivery{MessageID: fmt.Sprintf("m-%d", q.next), Body: []byte(body),
		Attributes: maps.Clone(attrs)}, Handle: h}}
}

func (q *fakeQueue) Receive(_ context.Context, max int, hold time.Duration) ([]Item, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Item
	handles := slices.SortedFunc(maps.Keys(q.msgs), func(a, b string) int { return q.msgs[a].seq - q.msgs[b].seq })
	if q.pull > 0 {
		slices.Reverse(handles)
		max = min(max, q.pull)
	}
	for _, h := range handles {
		m := q.msgs[h]
		if m.inFlight {
			continue
		}
		m.inFlight = true
		out = append(out, m.item)
		if len(out) == max {
			break
		}
	}
	return out, nil
}

func (q *fakeQueue) Ack(_ context.Context, items []Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range items {
		id := it.Attributes[queue.AttrEventID]
		if !q.reparked[id] && (q.accepted == nil || !q.accepted(id)) {
			q.ackedEarly = append(q.ackedEarly, id)
		}
		q.acked = append(q.acked, id)
		delete(q.msgs, it.Handle)
	}
	return nil
}

func (q *fakeQueue) Release(_ context.Context, items []Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range items {
		q.msgs[it.Handle].inFlight = false
		q.released++
	}
	return nil
}

func (q *fakeQueue) Publish(_ context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if q.failPub != nil {
			errs[i] = q.failPub
			continue
		}
		q.add(string(m.Body), m.Attributes)
		q.mu.Lock()
		q.reparked[m.ID] = true
		q.mu.Unlock()
	}
	return errs
}

func (q *fakeQueue) Close() error { return nil }

// contents returns what the queue holds, by event id, all visible.
func (q *fakeQueue) contents(t *testing.T) map[string]Item {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]Item{}
	for _, m := range q.msgs {
		if m.inFlight {
			t.Fatalf("%s still in flight after the run", m.item.Attributes[queue.AttrEventID])
		}
		out[m.item.Attributes[queue.AttrEventID]] = m.item
	}
	return out
}

// fakeClock advances only when slept on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// fakeSender answers by event id and records when (fake time) it was called.
type fakeSender struct {
	mu     sync.Mutex
	clock  *fakeClock
	answer func(id string) mcm.Result
	sent   []string
	bodies []string // as sent, byte for byte
	at     []time.Time
	ok     map[string]bool
}

func (s *fakeSender) Send(_ context.Context, body []byte) mcm.Result {
	e, id, _ := forwarder.Decode(forwarder.Delivery{Body: body})
	_ = e
	res := mcm.Result{Status: 200, Class: mcm.Delivered}
	if s.answer != nil {
		res = s.answer(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, id)
	s.bodies = append(s.bodies, string(body))
	s.at = append(s.at, s.clock.Now())
	if res.Class == mcm.Delivered {
		if s.ok == nil {
			s.ok = map[string]bool{}
		}
		s.ok[id] = true
	}
	return res
}

func (s *fakeSender) accepted(id string) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ok[id] }

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// dead is one dead letter: event id, type, event time, class.
type dead struct {
	id, typ string
	at      time.Time
	class   string
}

func body(d dead) string {
	return fmt.Sprintf(`{"id":%q,"event_type":%q,"timestamp":%d,"channel_type":"SITE","user_id":"u-1","page_id":"p"}`,
		d.id, d.typ, d.at.UnixMilli())
}

func attrs(d dead) map[string]string {
	a := map[string]string{queue.AttrEventID: d.id, queue.AttrEventType: d.typ, delivery.AttrDLAttempts: "8",
		delivery.AttrDLReason: "gave up", delivery.AttrDLStatus: "503"}
	if d.class != "" {
		a[delivery.AttrDLClass] = d.class
	}
	return a
}

type rig struct {
	q      *fakeQueue
	clock  *fakeClock
	sender *fakeSender
	b      *Backfill
}

func newRig(t *testing.T, cfg Config, letters ...dead) *rig {
	t.Helper()
	r := &rig{q: newQueue(), clock: &fakeClock{now: t0}}
	r.sender = &fakeSender{clock: r.clock}
	r.q.accepted = r.sender.accepted
	for _, d := range letters {
		r.q.add(body(d), attrs(d))
	}
	var err error
	r.b, err = New(withDefaults(cfg), Deps{Source: r.q, Sender: r.sender, DeadLetter: r.q, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func many(n int, class string) []dead {
	out := make([]dead, n)
	for i := range out {
		out[i] = dead{id: fmt.Sprintf("ev-%03d", i), typ: "PAGE_VIEW", at: t0.Add(-time.Hour), class: class}
	}
	return out
}

func TestSelection(t *testing.T) {
	letters := []dead{
		{"retry-1", "PAGE_VIEW", t0.Add(-3 * time.Hour), delivery.ClassRetryable},
		{"redrive-1", "PAGE_VIEW", t0.Add(-3 * time.Hour), ""}, // moved by the queue's own redrive policy
		{"perm-1", "PAGE_VIEW", t0.Add(-3 * time.Hour), delivery.ClassPermanent},
		{"auth-1", "PAGE_VIEW", t0.Add(-3 * time.Hour), delivery.ClassAuth},
		{"undecodable-1", "PAGE_VIEW", t0, delivery.ClassUndecodable},
		{"retry-old", "PAGE_VIEW", t0.Add(-48 * time.Hour), delivery.ClassRetryable},
		{"retry-search", "SEARCH", t0.Add(-2 * time.Hour), delivery.ClassRetryable},
	}
	cases := []struct {
		name string
		p    Params
		want []string
	}{
		{"default: retryable, and what the queue moved itself", Params{}, []string{"redrive-1", "retry-1", "retry-old", "retry-search"}},
		{"include_permanent", Params{IncludePermanent: true}, []string{"perm-1", "redrive-1", "retry-1", "retry-old", "retry-search"}},
		{"reasons=auth", Params{Reasons: List{"auth"}}, []string{"auth-1"}},
		{"time window", Params{From: t0.Add(-24 * time.Hour).Format(time.RFC3339), To: t0.Add(-150 * time.Minute).Format(time.RFC3339)},
			[]string{"redrive-1", "retry-1"}},
		{"event types", Params{EventTypes: List{"search"}}, []string{"retry-search"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Config{}, letters...)
			s, err := r.b.Run(context.Background(), c.p)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(r.sender.sent)
			if !slices.Equal(r.sender.sent, c.want) {
				t.Fatalf("sent %v, want %v", r.sender.sent, c.want)
			}
			left := r.q.contents(t)
			if s.Scanned != len(letters) || s.Resent != len(c.want) || s.Skipped != len(letters)-len(c.want) ||
				len(left) != s.Skipped || s.MoreRemaining || s.StopReason != StopDrained {
				t.Fatalf("summary %+v, %d left", s, len(left))
			}
			// What was not selected is still there, exactly as it was.
			for _, d := range letters {
				if slices.Contains(c.want, d.id) {
					continue
				}
				it, ok := left[d.id]
				if !ok || string(it.Body) != body(d) || !maps.Equal(it.Attributes, attrs(d)) {
					t.Fatalf("%s was not left untouched: %v %s", d.id, ok, it.Body)
				}
			}
		})
	}
}

// A request with several bad parameters is refused naming each of them,
// not only the first one checked (a bad type beside a bad reason).
func TestBadParamsNameEveryProblem(t *testing.T) {
	p := Params{Reasons: List{"retryable", "bogus"}, EventTypes: List{"PURCHASE", "NOPE"}, From: "yesterday", MaxEvents: -1}
	_, err := p.selection()
	if !errors.Is(err, ErrBadParams) {
		t.Fatalf("%v, want ErrBadParams", err)
	}
	for _, want := range []string{`reasons: "bogus"`, `event_types: "NOPE"`, `from: "yesterday"`, "max_events"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), `"PURCHASE"`) || strings.Contains(err.Error(), `"retryable",`) {
		t.Errorf("a valid value named as bad: %v", err)
	}
}

func TestBadParams(t *testing.T) {
	r := newRig(t, Config{}, many(3, delivery.ClassRetryable)...)
	for _, p := range []Params{{Reasons: List{"undecodable"}}, {From: "yesterday"}, {From: t0.Format(time.RFC3339), To: t0.Format(time.RFC3339)},
		{ReplayFrom: t0.Format(time.RFC3339)}, {MaxEvents: -1}} {
		if _, err := r.b.Run(context.Background(), p); !errors.Is(err, ErrBadParams) {
			t.Errorf("%+v: %v, want ErrBadParams", p, err)
		}
	}
	if len(r.sender.sent) != 0 || len(r.q.contents(t)) != 3 {
		t.Fatal("a refused request changed something")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	letters := append(many(12, delivery.ClassRetryable), dead{"perm-1", "PAGE_VIEW", t0, delivery.ClassPermanent})
	r := newRig(t, Config{Batch: 5}, letters...)
	before := r.q.contents(t)
	s, err := r.b.Run(context.Background(), Params{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.sender.sent) != 0 || len(r.q.acked) != 0 {
		t.Fatalf("dry run sent %v, acked %v", r.sender.sent, r.q.acked)
	}
	after := r.q.contents(t)
	if len(after) != len(before) {
		t.Fatalf("%d messages before, %d after", len(before), len(after))
	}
	for id, it := range before {
		if a := after[id]; a.Handle != it.Handle || string(a.Body) != string(it.Body) || !maps.Equal(a.Attributes, it.Attributes) {
			t.Fatalf("%s changed", id)
		}
	}
	if !s.DryRun || s.Scanned != 13 || s.Selected != 12 || s.Resent != 0 || s.Skipped != 1 || s.MoreRemaining {
		t.Fatalf("summary %+v", s)
	}
}

func TestRateCapRespected(t *testing.T) {
	const n, perSecond = 60, 10
	r := newRig(t, Config{Rate: 1000, Budget: time.Hour, Batch: 25}, many(n, delivery.ClassRetryable)...)
	s, err := r.b.Run(context.Background(), Params{Rate: perSecond}) // the request lowers the cap
	if err != nil {
		t.Fatal(err)
	}
	if s.Resent != n || s.Rate != perSecond {
		t.Fatalf("summary %+v", s)
	}
	// Only the limiter moves the fake clock: n sends at the cap take
	// (n-1)/rate of it (the first goes at once), and no more than that.
	took := r.clock.Now().Sub(t0)
	if min := time.Duration(n-1) * time.Second / perSecond; took < min || took > min+time.Second/perSecond {
		t.Fatalf("%d sends took %s of limiter time, want %s", n, took, min)
	}
	// A request cannot raise the configured cap.
	r = newRig(t, Config{Rate: 5}, many(2, delivery.ClassRetryable)...)
	if s, _ := r.b.Run(context.Background(), Params{Rate: 500}); s.Rate != 5 {
		t.Fatalf("rate %v, want the configured 5", s.Rate)
	}
}

func TestTimeBudgetStopsCleanly(t *testing.T) {
	const n = 100
	r := newRig(t, Config{Rate: 10, Budget: 3 * time.Second, Batch: 40}, many(n, delivery.ClassRetryable)...)
	s, err := r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	left := r.q.contents(t) // also checks nothing is left in flight
	// 10/s with a burst of 1 for 3 s: the first send at once, then one per 100 ms.
	if s.StopReason != StopTimeBudget || !s.MoreRemaining || s.Resent < 28 || s.Resent > 31 {
		t.Fatalf("summary %+v", s)
	}
	if len(left)+s.Resent != n || len(r.q.acked) != s.Resent {
		t.Fatalf("%d left + %d resent != %d (acked %d)", len(left), s.Resent, n, len(r.q.acked))
	}
	if last := r.sender.at[len(r.sender.at)-1]; !last.Before(t0.Add(3 * time.Second)) {
		t.Fatalf("sent at %s, after the budget", last.Sub(t0))
	}
	// max_events bounds a run the same way.
	r = newRig(t, Config{}, many(30, delivery.ClassRetryable)...)
	if s, _ := r.b.Run(context.Background(), Params{MaxEvents: 7}); s.Resent != 7 || s.StopReason != StopMaxEvents ||
		!s.MoreRemaining || len(r.q.contents(t)) != 23 {
		t.Fatalf("max_events: %+v", s)
	}
}

func TestStillFailingReparkedWithNewReason(t *testing.T) {
	letters := append(many(6, delivery.ClassRetryable), dead{"perm-1", "PAGE_VIEW", t0, delivery.ClassPermanent})
	r := newRig(t, Config{}, letters...)
	r.sender.answer = func(id string) mcm.Result {
		switch id {
		case "ev-001", "ev-004":
			return mcm.Result{Status: 503, Class: mcm.Retryable, Message: "service unavailable"}
		case "perm-1":
			return mcm.Result{Status: 400, Class: mcm.Permanent, Message: "missing page_id"}
		}
		return mcm.Result{Status: 200, Class: mcm.Delivered}
	}
	s, err := r.b.Run(context.Background(), Params{IncludePermanent: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Resent != 4 || s.StillFailing[delivery.ClassRetryable] != 2 || s.StillFailing[delivery.ClassPermanent] != 1 {
		t.Fatalf("summary %+v", s)
	}
	// Each event was sent once: the re-parked copies, back in the same
	// queue during the run, were not sent again.
	if len(r.sender.sent) != 7 {
		t.Fatalf("sent %v", r.sender.sent)
	}
	left := r.q.contents(t)
	if len(left) != 3 {
		t.Fatalf("left %v", slices.Collect(maps.Keys(left)))
	}
	want := map[string][2]string{"ev-001": {"retryable", "503"}, "ev-004": {"retryable", "503"}, "perm-1": {"permanent", "400"}}
	for id, w := range want {
		a := left[id].Attributes
		if a[delivery.AttrDLClass] != w[0] || a[delivery.AttrDLStatus] != w[1] || a[delivery.AttrDLAttempts] != "9" ||
			a[delivery.AttrDLAt] != t0.Format(time.RFC3339) || a[queue.AttrEventType] != "PAGE_VIEW" {
			t.Fatalf("%s re-parked with %v", id, a)
		}
		if !strings.Contains(a[delivery.AttrDLReason], map[string]string{"503": "unavailable", "400": "page_id"}[w[1]]) {
			t.Fatalf("%s reason %q", id, a[delivery.AttrDLReason])
		}
	}
}

// A receive that brings back only this run's re-parked message, as a
// Pub/Sub pull answering with fewer messages than the queue holds can, does
// not end the run while other dead letters wait.
func TestPartialReceivesDoNotEndTheRun(t *testing.T) {
	r := newRig(t, Config{}, many(3, delivery.ClassRetryable)...)
	r.q.pull = 1 // newest first: the re-parked copy comes back before the older letters
	r.sender.answer = func(id string) mcm.Result {
		if id == "ev-002" {
			return mcm.Result{Status: 503, Class: mcm.Retryable, Message: "service unavailable"}
		}
		return mcm.Result{Status: 200, Class: mcm.Delivered}
	}
	s, err := r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Resent != 2 || s.StillFailing[delivery.ClassRetryable] != 1 || s.StopReason != StopDrained {
		t.Fatalf("summary %+v (sent %v)", s, r.sender.sent)
	}
	if left := r.q.contents(t); len(left) != 1 || left["ev-002"].Handle == "" {
		t.Fatalf("left %v", slices.Collect(maps.Keys(left)))
	}
}

// The queue may hold two dead letters of one event (queues deliver at
// least once, so the forwarder can dead-letter an event twice). A run sends
// the event once; a later copy of an event it resent is acknowledged, one
// of an event it re-parked stays (the re-parked message is such a copy).
func TestDuplicateDeadLetters(t *testing.T) {
	rig := func() *rig {
		letters := many(3, delivery.ClassRetryable)
		r := newRig(t, Config{Batch: 2}, letters...) // the copies come in later batches
		r.q.add(body(letters[0]), attrs(letters[0]))
		r.q.add(body(letters[2]), attrs(letters[2]))
		r.sender.answer = func(id string) mcm.Result {
			if id == "ev-002" {
				return mcm.Result{Status: 503, Class: mcm.Retryable, Message: "service unavailable"}
			}
			return mcm.Result{Status: 200, Class: mcm.Delivered}
		}
		return r
	}
	r := rig()
	s, err := r.b.Run(context.Background(), Params{DryRun: true})
	if err != nil || s.Scanned != 3 || s.Duplicates != 2 || len(r.q.acked) != 0 || len(r.q.msgs) != 5 {
		t.Fatalf("dry run: summary %+v, err %v, acked %v", s, err, r.q.acked)
	}

	r = rig()
	s, err = r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(r.sender.sent)
	if !slices.Equal(r.sender.sent, []string{"ev-000", "ev-001", "ev-002"}) {
		t.Fatalf("sent %v", r.sender.sent)
	}
	// ev-000's copy, ev-002's copy, and ev-002's re-parked message.
	if s.Scanned != 3 || s.Resent != 2 || s.StillFailing[delivery.ClassRetryable] != 1 || s.Duplicates != 3 {
		t.Fatalf("summary %+v", s)
	}
	var left []string
	for _, m := range r.q.msgs {
		if m.inFlight {
			t.Fatalf("%v still in flight", m.item.Attributes)
		}
		left = append(left, m.item.Attributes[queue.AttrEventID]+"/"+m.item.Attributes[delivery.AttrDLAttempts])
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"ev-002/8", "ev-002/9"}) {
		t.Fatalf("left %v", left)
	}
}

func TestAckOnlyAfterPlatformAccepted(t *testing.T) {
	// The 10 failures must not stop the run as platform_failing: with 16
	// sends at once, 6 of them in a row (the default limit) came first in
	// some runs, and the events not yet sent were left for the next run.
	r := newRig(t, Config{FailureLimit: 100}, many(20, delivery.ClassRetryable)...)
	r.sender.answer = func(id string) mcm.Result {
		if id < "ev-010" {
			return mcm.Result{Status: 200, Class: mcm.Delivered}
		}
		return mcm.Result{Status: 429, Class: mcm.Retryable, Message: "request denied by throttler"}
	}
	r.q.failPub = errors.New("dead-letter topic unavailable") // re-parking fails
	s, err := r.b.Run(context.Background(), Params{})
	if err == nil || s.StopReason != StopQueueError || !s.MoreRemaining {
		t.Fatalf("summary %+v, err %v", s, err)
	}
	if len(r.q.ackedEarly) != 0 {
		t.Fatalf("acknowledged before the platform accepted: %v", r.q.ackedEarly)
	}
	// The delivered ones are gone; the failing ones are back, untouched.
	left := r.q.contents(t)
	if len(r.q.acked) != 10 || len(left) != 10 {
		t.Fatalf("acked %v, left %d", r.q.acked, len(left))
	}
	for id, it := range left {
		if it.Attributes[delivery.AttrDLAttempts] != "8" || id < "ev-010" {
			t.Fatalf("%s changed or lost: %v", id, it.Attributes)
		}
	}
}

func TestStopsWhenThePlatformKeepsFailing(t *testing.T) {
	r := newRig(t, Config{Concurrency: 1, FailureLimit: 6}, many(50, delivery.ClassRetryable)...)
	r.sender.answer = func(string) mcm.Result { return mcm.Result{Status: 503, Class: mcm.Retryable, Message: "down"} }
	s, err := r.b.Run(context.Background(), Params{})
	if err != nil {
		t.Fatal(err)
	}
	if s.StopReason != StopPlatformFailing || len(r.sender.sent) != 6 || s.StillFailing["retryable"] != 6 || len(r.q.contents(t)) != 50 {
		t.Fatalf("summary %+v, sent %d", s, len(r.sender.sent))
	}
}

type fakeSeeker struct{ to []time.Time }

func (f *fakeSeeker) Seek(_ context.Context, to time.Time) error { f.to = append(f.to, to); return nil }
func (f *fakeSeeker) Name() string                               { return "projects/p/subscriptions/live-events" }

func TestReplaySeeks(t *testing.T) {
	r := newRig(t, Config{}, many(3, delivery.ClassRetryable)...)
	seeker := &fakeSeeker{}
	r.b.d.Replay = seeker
	from := t0.Add(-time.Hour).Format(time.RFC3339)
	if s, err := r.b.Run(context.Background(), Params{ReplayFrom: from, DryRun: true}); err != nil || len(seeker.to) != 0 || s.ReplayedFrom != from {
		t.Fatalf("dry run: %+v %v, seeks %v", s, err, seeker.to)
	}
	s, err := r.b.Run(context.Background(), Params{ReplayFrom: from})
	if err != nil || len(seeker.to) != 1 || !seeker.to[0].Equal(t0.Add(-time.Hour)) || s.ReplaySubscription != seeker.Name() {
		t.Fatalf("%+v %v, seeks %v", s, err, seeker.to)
	}
	if _, err := r.b.Run(context.Background(), Params{ReplayFrom: t0.Add(time.Hour).Format(time.RFC3339)}); !errors.Is(err, ErrBadParams) {
		t.Fatalf("a future replay_from: %v", err)
	}
	if len(r.sender.sent) != 0 || len(r.q.contents(t)) != 3 {
		t.Fatal("a replay touched the dead letters")
	}
}

func TestParams(t *testing.T) {
	p, err := ParseParams([]byte(`{"reasons":"retryable, auth","event_types":["PURCHASE","search"],"dry_run":true,"max_events":5,"rate":2.5}`))
	if err != nil || !slices.Equal(p.Reasons, []string{"retryable", "auth"}) || len(p.EventTypes) != 2 || !p.DryRun || p.MaxEvents != 5 || p.Rate != 2.5 {
		t.Fatalf("%+v %v", p, err)
	}
	if p, err := ParseParams(nil); err != nil || p.DryRun {
		t.Fatalf("empty input: %+v %v", p, err)
	}
	if _, err := ParseParams([]byte(`{"dryrun":true}`)); !errors.Is(err, ErrBadParams) {
		t.Fatalf("a misspelt parameter was accepted: %v", err)
	}
	// Over HTTP: query and body together; a bad parameter is a 400.
	r := newRig(t, Config{}, many(4, delivery.ClassRetryable)...)
	h := apicontract.Wrap(t, apicontract.Backfill, r.b.Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, runRequest("/?dry_run=true", `{"max_events":2}`))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"selected":2`) || !strings.Contains(rec.Body.String(), `"dry_run":true`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, runRequest("/?dry_rn=1", ""))
	if rec.Code != 400 || len(r.sender.sent) != 0 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// limitedQueue is a queue that holds a message for at most limit, as a
// Pub/Sub subscription does (600 s).
type limitedQueue struct {
	*fakeQueue
	limit time.Duration
}

func (q limitedQueue) MaxHold() time.Duration { return q.limit }

// A budget whose hold does not fit in the queue's longest hold is refused
// at start, naming the setting and the longest budget that fits; one that
// fits starts.
func TestBudgetMustFitTheQueuesHold(t *testing.T) {
	q := limitedQueue{newQueue(), 600 * time.Second}
	reserve := 15 * time.Second // MCM_TIMEOUT 10 s + 5 s
	_, err := New(withDefaults(Config{Budget: 30 * time.Minute, Reserve: reserve}), Deps{Source: q, Sender: &fakeSender{}, DeadLetter: q})
	if err == nil || !strings.Contains(err.Error(), "BACKFILL_TIME_BUDGET=30m0s") || !strings.Contains(err.Error(), "at most 8m45s") {
		t.Fatalf("a 30 min budget on a 10 min hold: %v", err)
	}
	for _, ok := range []time.Duration{240 * time.Second, 525 * time.Second} {
		if _, err := New(withDefaults(Config{Budget: ok, Reserve: reserve}), Deps{Source: q, Sender: &fakeSender{}, DeadLetter: q}); err != nil {
			t.Fatalf("budget %s: %v", ok, err)
		}
	}
	if _, err := New(withDefaults(Config{Budget: 526 * time.Second, Reserve: reserve}), Deps{Source: q, Sender: &fakeSender{}, DeadLetter: q}); err == nil {
		t.Fatal("a budget 1 s over the hold started")
	}
	// A queue without a limit (SQS holds up to 12 h) takes any budget.
	if _, err := New(withDefaults(Config{Budget: 55 * time.Minute, Reserve: reserve}), Deps{Source: newQueue(), Sender: &fakeSender{}, DeadLetter: newQueue()}); err != nil {
		t.Fatal(err)
	}
}

// TestParamsRefuseWhatWasTakenSilently: a rate that is not a number of
// events a second, and a name in another case or given twice, are refused
// (the code before ignored rate NaN and Inf, and took "Dry_Run" for
// dry_run, the last of two winning).
func TestParamsRefuseWhatWasTakenSilently(t *testing.T) {
	for _, q := range []string{"rate=NaN", "rate=Inf", "rate=-5", "max_events=-1"} {
		v, _ := url.ParseQuery(q)
		p, err := ParseQuery(v)
		if err == nil {
			_, err = p.selection()
		}
		if !errors.Is(err, ErrBadParams) {
			t.Errorf("%s: %v, want ErrBadParams", q, err)
		}
	}
	for _, body := range []string{`{"dry_run":true,"Dry_Run":false}`, `{"dry_run":true,"dry_run":false}`, `{"MAX_EVENTS":5}`} {
		if _, err := ParseParams([]byte(body)); !errors.Is(err, ErrBadParams) {
			t.Errorf("%s: %v, want ErrBadParams", body, err)
		}
	}
	if p, err := ParseParams([]byte(`{"dry_run":true,"reasons":"retryable","max_events":5}`)); err != nil || !p.DryRun || p.MaxEvents != 5 {
		t.Errorf("a plain body: %+v %v", p, err)
	}
}
