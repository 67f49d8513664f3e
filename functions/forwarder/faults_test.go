package forwarder

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sony/gobreaker/v2"

	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
)

// cooldown is short and real: gobreaker keeps its own clock. The tests
// wait past it; none asserts how long anything took.
const cooldown = 20 * time.Millisecond

func openBreaker(t *testing.T, s *script, logs *bytes.Buffer) (*Forwarder, *queue.Memory) {
	t.Helper()
	dlq := &queue.Memory{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	f, err := New(WithDefaults(Config{MaxAttempts: 100, BreakerThreshold: 3, BreakerCooldown: cooldown}),
		Deps{Sender: s, DeadLetter: dlq, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		f.Handle(context.Background(), queued(1))
	}
	if d := f.Handle(context.Background(), queued(1)); d.Outcome != "circuit_open" || d.RetryAfter <= 0 {
		t.Fatalf("breaker did not open: %+v after %d calls", d, s.calls)
	}
	return f, dlq
}

// afterCooldown waits past the breaker's cooldown, then scripts the next
// answers.
func (s *script) afterCooldown(answers ...mcm.Result) {
	time.Sleep(2 * cooldown)
	s.mu.Lock()
	s.answers, s.calls = answers, 0
	s.mu.Unlock()
}

func other(n int) Delivery {
	return Delivery{MessageID: fmt.Sprint("m-", n), Attempt: 1,
		Body: []byte(strings.Replace(body, "evt-1", fmt.Sprint("evt-x", n), 1))}
}

func TestCircuitBreakerProbeSuccessCloses(t *testing.T) {
	var logs bytes.Buffer
	s := &script{answers: []mcm.Result{{Status: 503, Class: mcm.Retryable}}}
	f, _ := openBreaker(t, s, &logs)
	s.afterCooldown(mcm.Result{Status: 200, Class: mcm.Delivered})
	if d := f.Handle(context.Background(), queued(1)); d.Outcome != "delivered" {
		t.Fatalf("probe: %+v", d)
	}
	if d := f.Handle(context.Background(), other(2)); d.Outcome != "delivered" || f.breaker.state() != gobreaker.StateClosed {
		t.Fatalf("after probe: %+v, breaker %v", d, f.breaker.state())
	}
	// Each change of state is logged once: closed→open, open→half-open,
	// half-open→closed.
	for _, change := range []string{"from=closed to=open", "from=open to=half-open", "from=half-open to=closed"} {
		if n := strings.Count(logs.String(), change); n != 1 {
			t.Errorf("%q logged %d times:\n%s", change, n, logs.String())
		}
	}
}

// Issue 11 point 1: a probe whose two sends both fail authentication (the
// key re-read and retried once) must still be recorded, or the breaker
// stays open for good.
func TestCircuitBreakerProbeAuthFailureIsRecorded(t *testing.T) {
	var logs bytes.Buffer
	s := &script{answers: []mcm.Result{{Status: 503, Class: mcm.Retryable}}}
	f, dlq := openBreaker(t, s, &logs)
	s.afterCooldown(mcm.Result{Status: 401, Class: mcm.AuthFailed})
	if d := f.Handle(context.Background(), queued(1)); d.Outcome != "dead_lettered" ||
		dlq.Messages()[0].Attributes[delivery.AttrDLClass] != delivery.ClassAuth {
		t.Fatalf("probe with a refused key: %+v", d)
	}
	if f.breaker.state() != gobreaker.StateOpen {
		t.Fatalf("a refused key must open the breaker again, it is %v", f.breaker.state())
	}
	// The key is fixed: after the next cooldown a probe goes through.
	s.afterCooldown(mcm.Result{Status: 200, Class: mcm.Delivered})
	if d := f.Handle(context.Background(), other(2)); d.Outcome != "delivered" {
		t.Fatalf("after the key was fixed the breaker still refuses: %+v", d)
	}
}

// A cancelled probe says nothing about the platform: the next call probes.
func TestCircuitBreakerCancelledProbeFreesTheSlot(t *testing.T) {
	var logs bytes.Buffer
	s := &script{answers: []mcm.Result{{Status: 503, Class: mcm.Retryable}}}
	f, _ := openBreaker(t, s, &logs)
	s.afterCooldown(mcm.Result{Class: mcm.Retryable, Err: context.Canceled}, mcm.Result{Status: 200, Class: mcm.Delivered})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d := f.Handle(ctx, queued(1)); d.Ack {
		t.Fatalf("cancelled probe acknowledged: %+v", d)
	}
	if d := f.Handle(context.Background(), other(2)); d.Outcome != "delivered" {
		t.Fatalf("after a cancelled probe: %+v (breaker %v)", d, f.breaker.state())
	}
}

// panicky panics on its first send, then delivers.
type panicky struct{ script }

func (p *panicky) Send(ctx context.Context, b []byte) mcm.Result {
	p.mu.Lock()
	first := p.calls == 3
	p.mu.Unlock()
	if first {
		p.mu.Lock()
		p.calls++
		p.mu.Unlock()
		panic("boom")
	}
	return p.script.Send(ctx, b)
}

func TestCircuitBreakerPanickingProbeIsRecorded(t *testing.T) {
	var logs bytes.Buffer
	s := &panicky{script{answers: []mcm.Result{{Status: 503, Class: mcm.Retryable}}}}
	dlq := &queue.Memory{}
	f, _ := New(WithDefaults(Config{MaxAttempts: 100, BreakerThreshold: 3, BreakerCooldown: cooldown}),
		Deps{Sender: s, DeadLetter: dlq, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 3 {
		f.Handle(context.Background(), queued(1))
	}
	time.Sleep(2 * cooldown)
	func() {
		defer func() { _ = recover() }() // the probe panics by design; what follows checks the breaker
		f.Handle(context.Background(), queued(1))
	}()
	s.afterCooldown(mcm.Result{Status: 200, Class: mcm.Delivered})
	if d := f.Handle(context.Background(), other(2)); d.Outcome != "delivered" {
		t.Fatalf("after a panicking probe: %+v (breaker %v)", d, f.breaker.state())
	}
}

// While the breaker is open the message's attempts still run out; the last
// one is dead-lettered with our reason, before the queue's own redrive
// would move it without one.
func TestCircuitOpenOnLastAttemptDeadLetters(t *testing.T) {
	s := &script{answers: []mcm.Result{{Status: 503, Class: mcm.Retryable}}}
	dlq := &queue.Memory{}
	f, _ := New(WithDefaults(Config{MaxAttempts: 5, BreakerThreshold: 3, BreakerCooldown: time.Hour}), Deps{Sender: s, DeadLetter: dlq})
	for range 3 {
		f.Handle(context.Background(), queued(1))
	}
	if d := f.Handle(context.Background(), queued(4)); d.Outcome != "circuit_open" {
		t.Fatalf("attempt 4: %+v", d)
	}
	d := f.Handle(context.Background(), queued(5))
	if !d.Ack || d.Outcome != "dead_lettered" || len(dlq.Messages()) != 1 {
		t.Fatalf("last attempt with the breaker open: %+v", d)
	}
	a := dlq.Messages()[0].Attributes
	if a[delivery.AttrDLClass] != delivery.ClassRetryable || !strings.Contains(a[delivery.AttrDLReason], "circuit breaker") {
		t.Fatalf("dead letter %v", a)
	}
}

// strictQueue refuses, as Pub/Sub does, a message whose attribute values are
// not valid UTF-8; it records what it took.
type strictQueue struct {
	queue.Memory
	mu      sync.Mutex
	refused int
}

func (q *strictQueue) Publish(ctx context.Context, msgs []queue.Message) []error {
	for _, m := range msgs {
		for k, v := range m.Attributes {
			if !utf8.ValidString(v) {
				q.mu.Lock()
				q.refused++
				q.mu.Unlock()
				return []error{fmt.Errorf("publish: %w: attribute %s is not valid UTF-8", queue.ErrPermanent, k)}
			}
		}
	}
	return q.Memory.Publish(ctx, msgs)
}

// Issue 11 point 2: a platform message cut in the middle of a character
// made an attribute the queue refuses, and the message looped for ever.
func TestLongMultiByteReasonStillDeadLetters(t *testing.T) {
	msg := "x" + strings.Repeat("é", 600) // the 512-byte cut falls inside a character
	s := &script{answers: []mcm.Result{{Status: 400, Class: mcm.Permanent, Message: msg}}}
	dlq := &strictQueue{}
	f, _ := New(WithDefaults(Config{}), Deps{Sender: s, DeadLetter: dlq})
	d := f.Handle(context.Background(), queued(1))
	if !d.Ack || d.Outcome != "dead_lettered" || dlq.refused != 0 {
		t.Fatalf("decision %+v, refused %d", d, dlq.refused)
	}
	r := dlq.Messages()[0].Attributes[delivery.AttrDLReason]
	if !utf8.ValidString(r) || len(r) > delivery.MaxReason || !strings.HasPrefix(r, "xéé") {
		t.Fatalf("reason %q (%d bytes)", r, len(r))
	}
}

// An attribute the queue refuses that did not come from us (here an
// original attribute) still ends in the dead-letter queue, with ours.
func TestRefusedDeadLetterIsPublishedWithOurAttributes(t *testing.T) {
	s := &script{answers: []mcm.Result{{Status: 400, Class: mcm.Permanent, Message: "bad"}}}
	dlq := &strictQueue{}
	f, _ := New(WithDefaults(Config{}), Deps{Sender: s, DeadLetter: dlq})
	dv := queued(1)
	dv.Attributes["custom"] = "\xff\xfe"
	if d := f.Handle(context.Background(), dv); !d.Ack || d.Outcome != "dead_lettered" || dlq.refused != 1 {
		t.Fatalf("decision %+v, refused %d", d, dlq.refused)
	}
	a := dlq.Messages()[0].Attributes
	if a[delivery.AttrDLClass] != delivery.ClassPermanent || a[queue.AttrEventID] != "evt-1" || a["custom"] != "" {
		t.Fatalf("dead letter %v", a)
	}
}

// Issue 28 point 4: in a key storm the breaker opens on refused keys; what
// it then holds back and runs out of attempts is still a refused key's
// dead letter (auth), never a transient outage's (retryable). An outage's
// held-back messages stay retryable.
func TestBreakerHeldDeadLettersKeepTheirCause(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer mcm.Result
		want   string
	}{
		{"refused key", mcm.Result{Status: 401, Class: mcm.AuthFailed, Message: "invalid api key"}, delivery.ClassAuth},
		{"outage", mcm.Result{Status: 503, Class: mcm.Retryable}, delivery.ClassRetryable},
	} {
		t.Run(c.name, func(t *testing.T) {
			dlq := &queue.Memory{}
			f, err := New(WithDefaults(Config{MaxAttempts: 3, BreakerThreshold: 3, BreakerCooldown: time.Hour}),
				Deps{Sender: &script{answers: []mcm.Result{c.answer}}, DeadLetter: dlq})
			if err != nil {
				t.Fatal(err)
			}
			// 40 events, each redelivered until it is acknowledged, as the
			// queue would.
			const n = 40
			for i := range n {
				for attempt := 1; ; attempt++ {
					d := other(i)
					d.Attempt = attempt
					if f.Handle(context.Background(), d).Ack {
						break
					}
					if attempt > 3 {
						t.Fatalf("event %d not settled after %d attempts", i, attempt)
					}
				}
			}
			byClass := map[string]int{}
			for _, m := range dlq.Messages() {
				byClass[m.Attributes[delivery.AttrDLClass]]++
			}
			if byClass[c.want] != n || len(byClass) != 1 {
				t.Fatalf("dead letters by class %v, want all %d %s", byClass, n, c.want)
			}
		})
	}
}
