// Package forwarder is the platform-neutral core of the forwarder function:
// it takes one queued event, sends it to the Moloco MCM User Event API and
// decides what becomes of the message: acknowledged (delivered, or
// dead-lettered with its reason) or handed back to the queue to retry later.
//
// Backoff is carried by the queue (Pub/Sub's retry policy, SQS's visibility
// timeout), never by sleeping here: a sleeping function burns its timeout
// and its concurrency slot for nothing.
package forwarder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"eventrelay.dev/eventrelay/shared/clip"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/ttlset"
)

// Delivery is one message as the queue handed it over.
type Delivery struct {
	MessageID  string
	Body       []byte
	Attributes map[string]string
	Attempt    int // 1 on first delivery; 0 when the queue does not say
	// PublishTime is when the queue took the message (zero: unknown). Every
	// copy of one publish carries the same time.
	PublishTime time.Time
}

// Decision is what the adapter tells the queue.
type Decision struct {
	Ack        bool          // true: delete/acknowledge the message
	RetryAfter time.Duration // with Ack false: make it visible again after this
	Outcome    string        // delivered | duplicate | dead_lettered | retry | circuit_open
}

// Config tunes retries.
type Config struct {
	// MaxAttempts: a retryable failure on this attempt is dead-lettered
	// instead. Keep it below the queue's own redrive limit so our DLQ entry
	// (with its reason) comes first.
	MaxAttempts int
	// FirstBackoff is Moloco's minimum wait after a 5xx (≥ 5 s); it doubles
	// per attempt up to MaxBackoff.
	FirstBackoff time.Duration
	MaxBackoff   time.Duration
	// Breaker opens after this many consecutive retryable failures and
	// stays open for BreakerCooldown.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// DeliveredWindow remembers delivered events per instance, so
	// at-least-once redelivery does not call the platform twice.
	DeliveredWindow time.Duration
	// IngestWindow is ingest's de-duplication window
	// (INGEST_DEDUPE_WINDOW): a delivered event's message published within
	// it of the delivered one's is a copy of that one acceptance (a
	// redelivery, a publish retried, a repeat ingest took as new on another
	// instance) and is not sent again; one published later was accepted
	// anew by ingest, which no longer remembered the event, and is sent
	// (the platform gets the same id again). 0: only copies of the very
	// same publish.
	IngestWindow time.Duration
}

// check refuses an incomplete configuration: the values come complete from
// the settings registry (shared/settings), and a zero here is a caller that
// skipped it, not a wish for some default.
func (c Config) check() error {
	switch {
	case c.MaxAttempts < 1:
		return fmt.Errorf("forwarder: MaxAttempts (FORWARDER_MAX_ATTEMPTS) must be at least 1, got %d", c.MaxAttempts)
	case c.FirstBackoff <= 0:
		return fmt.Errorf("forwarder: FirstBackoff (FORWARDER_FIRST_BACKOFF) must be positive, got %s", c.FirstBackoff)
	case c.MaxBackoff < c.FirstBackoff:
		return fmt.Errorf("forwarder: MaxBackoff (FORWARDER_MAX_BACKOFF) %s is shorter than FirstBackoff %s", c.MaxBackoff, c.FirstBackoff)
	case c.BreakerThreshold < 1:
		return fmt.Errorf("forwarder: BreakerThreshold (FORWARDER_BREAKER_THRESHOLD) must be at least 1, got %d", c.BreakerThreshold)
	case c.BreakerCooldown <= 0:
		return fmt.Errorf("forwarder: BreakerCooldown (FORWARDER_BREAKER_COOLDOWN) must be positive, got %s", c.BreakerCooldown)
	case c.DeliveredWindow <= 0:
		return fmt.Errorf("forwarder: DeliveredWindow (FORWARDER_DEDUPE_WINDOW) must be positive, got %s", c.DeliveredWindow)
	}
	return nil
}

// Forwarder is safe for concurrent use.
type Forwarder struct {
	cfg        Config
	send       delivery.Sender
	invalidate delivery.KeyInvalidator
	dlq        queue.Publisher
	delivered  *ttlset.Times // event.Key → publish time of the copy delivered
	breaker    *breaker
	erased     Suppressions
	log        *slog.Logger
	now        func() time.Time
}

// Deps are the Forwarder's collaborators.
type Deps struct {
	Sender        delivery.Sender
	InvalidateKey delivery.KeyInvalidator
	DeadLetter    queue.Publisher
	Erased        Suppressions // nil: no erasure list
	Logger        *slog.Logger
	Now           func() time.Time
}

// New returns a Forwarder.
func New(cfg Config, d Deps) (*Forwarder, error) {
	if d.Sender == nil || d.DeadLetter == nil {
		return nil, errors.New("forwarder: a sender and a dead-letter publisher are required")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	// deliveredBytes bounds one generation of the delivered ids (at most
	// twice it, 32 MB, about 360,000 ids of 40 bytes, in a 256 MB function):
	// a busy instance remembers its ids for less than DeliveredWindow.
	const deliveredBytes = 16 << 20
	return &Forwarder{cfg: cfg, send: d.Sender, invalidate: d.InvalidateKey, dlq: d.DeadLetter,
		delivered: ttlset.NewTimes(cfg.DeliveredWindow, deliveredBytes, d.Now),
		breaker:   newBreaker(cfg.BreakerThreshold, cfg.BreakerCooldown, d.Logger),
		erased:    d.Erased, log: d.Logger, now: d.Now}, nil
}

// Handle decides the fate of one delivery.
func (f *Forwarder) Handle(ctx context.Context, d Delivery) Decision {
	d.Attempt = f.attempt(d)
	e, id, err := Decode(d)
	if err != nil {
		return f.deadLetter(ctx, d, id, delivery.ClassUndecodable, 0, err.Error())
	}
	if dec, done := f.dropErased(ctx, d, &e, id); done {
		return dec
	}
	key := ""
	if id != "" {
		key = event.Key(d.Attributes[queue.AttrSource], id)
	}
	if key != "" && f.alreadyDelivered(key, d.PublishTime) {
		f.outcome(ctx, slog.LevelInfo, "duplicate", id, d, 0, "")
		return Decision{Ack: true, Outcome: "duplicate"}
	}
	start := f.now()
	res, sent := f.breaker.call(ctx, func() mcm.Result { return delivery.Send(ctx, f.send, f.invalidate, d.Body) })
	if !sent {
		if d.Attempt >= f.cfg.MaxAttempts {
			// Our reason must come before the queue's own redrive, which
			// would move the message without one. The class is what holds
			// the breaker open: a refused key is auth, sent or not.
			cause := f.breaker.cause()
			why := "the platform kept failing"
			if cause == delivery.ClassAuth {
				why = "the platform refused the API key"
			}
			return f.deadLetter(ctx, d, id, cause, 0,
				fmt.Sprintf("gave up after %d attempts: %s and the circuit breaker is open", d.Attempt, why))
		}
		f.outcome(ctx, slog.LevelInfo, "circuit_open", id, d, 0, "")
		return Decision{RetryAfter: f.breaker.cooldown, Outcome: "circuit_open"}
	}
	took := platformTime(f.now().Sub(start))
	switch class := delivery.ClassOf(res); class {
	case "":
		if key != "" {
			f.delivered.Put(key, d.PublishTime)
		}
		f.outcome(ctx, slog.LevelInfo, "delivered", id, d, res.Status, "", took)
		return Decision{Ack: true, Outcome: "delivered"}
	case delivery.ClassAuth:
		f.log.LogAttrs(ctx, slog.LevelError, "platform rejected the API key; check the key secret",
			slog.Int("status", res.Status), slog.String("event_id", id), slog.String("source", d.Attributes[queue.AttrSource]))
		return f.deadLetter(ctx, d, id, class, res.Status, res.Message, took)
	case delivery.ClassPermanent:
		return f.deadLetter(ctx, d, id, class, res.Status, res.Message, took)
	}
	// Retryable, or anything unforeseen: never dropped.
	if ctx.Err() != nil && errors.Is(res.Err, context.Canceled) {
		return Decision{RetryAfter: f.cfg.FirstBackoff, Outcome: "retry"}
	}
	reason := delivery.Reason(res)
	if d.Attempt >= f.cfg.MaxAttempts {
		return f.deadLetter(ctx, d, id, delivery.ClassRetryable, res.Status,
			fmt.Sprintf("gave up after %d attempts: %s", d.Attempt, reason), took)
	}
	wait := max(f.backoff(d.Attempt), res.RetryAfter)
	f.outcome(ctx, slog.LevelWarn, "retry", id, d, res.Status, reason, slog.Duration("retry_after", wait), took)
	return Decision{RetryAfter: wait, Outcome: "retry"}
}

// alreadyDelivered reports whether this instance delivered the event key
// from the same acceptance as a message published at published
// (Config.IngestWindow). Without a publish time on either side, any
// delivery within DeliveredWindow counts.
func (f *Forwarder) alreadyDelivered(key string, published time.Time) bool {
	at, ok := f.delivered.Get(key)
	if !ok {
		return false
	}
	if at.IsZero() || published.IsZero() || at.Equal(published) {
		return true
	}
	apart := published.Sub(at)
	return max(apart, -apart) < f.cfg.IngestWindow
}

// Decode reads the event a delivery carries and its id: the event_id
// attribute, else the body's id. Backfill decodes dead letters with it, so
// both functions agree on what a queued event is.
func Decode(d Delivery) (event.Event, string, error) {
	id := d.Attributes[queue.AttrEventID]
	var e event.Event
	if err := json.Unmarshal(d.Body, &e); err != nil {
		return e, id, fmt.Errorf("body is not an event: %w", err)
	}
	if e.EventType == "" {
		return e, id, errors.New("body is not an event")
	}
	if id == "" {
		id = e.ID
	}
	return e, id, nil
}

// attempt is the delivery's attempt number. A trigger without one (an
// Eventarc trigger, or a push subscription without a dead-letter policy,
// sends no deliveryAttempt) would never reach MaxAttempts, and a message
// failing for good would cycle until the subscription's retention dropped
// it, never dead-lettered. Its attempt is then counted from its age
// instead: how many attempts the backoff schedule makes in the time since
// it was published, so it is dead-lettered once it is as old as
// MaxAttempts attempts take (about 20 min at the defaults). A message that
// waited in a backlog reaches that sooner, in fewer real attempts; it is
// dead-lettered with its reason, for backfill, never dropped.
func (f *Forwarder) attempt(d Delivery) int {
	if d.Attempt > 0 || d.PublishTime.IsZero() {
		return d.Attempt
	}
	age := f.now().Sub(d.PublishTime)
	n, elapsed := 1, time.Duration(0)
	for n < f.cfg.MaxAttempts {
		if elapsed += f.backoff(n); elapsed > age {
			break
		}
		n++
	}
	return n
}

// backoff follows Moloco's failure protocol: at least 5 s, then doubling.
func (f *Forwarder) backoff(attempt int) time.Duration {
	d := f.cfg.FirstBackoff
	for i := 1; i < attempt && d < f.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, f.cfg.MaxBackoff)
}

// deadLetter publishes the message with its reason to the dead-letter queue
// and acknowledges it; if the dead-letter queue fails for a while, the
// message goes back to the queue instead, so it is never lost. If the
// dead-letter queue refuses the message itself, it is published once more
// with only our attributes, cleaned; should that fail too, the message goes
// back to the queue, whose own redrive limit then bounds its retries.
func (f *Forwarder) deadLetter(ctx context.Context, d Delivery, id, class string, status int, reason string, extra ...slog.Attr) Decision {
	msgID := id
	if msgID == "" {
		msgID = d.MessageID
	}
	dl := delivery.DeadLetter{Class: class, Status: status, Reason: reason, Attempts: d.Attempt, At: f.now()}
	msg := queue.Message{ID: msgID, Body: d.Body, Attributes: dl.Attributes(d.Attributes, id)}
	err := f.dlq.Publish(ctx, []queue.Message{msg})[0]
	if err != nil && !queue.Transient(err) {
		variable, _ := queue.Setting(err)
		f.log.LogAttrs(ctx, slog.LevelError, "the dead-letter queue refused the message; publishing it with our attributes only",
			slog.String("variable", variable), slog.String("event_id", id), slog.String("error", err.Error()))
		msg.Attributes = dl.Attributes(nil, id)
		err = f.dlq.Publish(ctx, []queue.Message{msg})[0]
	}
	if err != nil {
		f.outcome(ctx, slog.LevelError, "dead_letter_failed", id, d, status, err.Error(), extra...)
		return Decision{RetryAfter: f.cfg.FirstBackoff, Outcome: "retry"}
	}
	f.outcome(ctx, slog.LevelWarn, "dead_lettered", id, d, status, reason, append(extra, slog.String("class", class))...)
	return Decision{Ack: true, Outcome: "dead_lettered"}
}

func (f *Forwarder) outcome(ctx context.Context, level slog.Level, outcome, id string, d Delivery, status int, reason string, extra ...slog.Attr) {
	attrs := append([]slog.Attr{slog.String("outcome", outcome), slog.String("event_id", id),
		slog.String("source", d.Attributes[queue.AttrSource]),
		slog.String("message_id", d.MessageID), slog.Int("attempt", d.Attempt)}, extra...)
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if reason != "" {
		attrs = append(attrs, slog.String("reason", clip.String(reason, delivery.MaxReason)))
	}
	f.log.LogAttrs(ctx, level, "forward", attrs...)
}

// platformTime is the "platform_duration_us" field: the platform call's
// time, auth re-read included, which the latency metrics read.
func platformTime(d time.Duration) slog.Attr {
	return slog.Int64("platform_duration_us", d.Microseconds())
}
