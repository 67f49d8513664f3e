// Package backfill is the platform-neutral core of the backfill function:
// it drains the dead-letter subscription or queue in bounded batches within
// a time budget, resends the selected events to the Moloco MCM User Event
// API with their original id and timestamp (the body is resent byte for
// byte), acknowledges a message only after the platform accepted it, and
// parks an event that fails again back in the dead-letter store with its
// new reason and one more attempt. Nothing is dropped: a message that is
// not selected, not reached before the budget ran out, or whose re-park
// failed is handed back to the queue untouched.
//
// The queue, the platform and the clock come in through small interfaces
// (Source, Sender, queue.Publisher, Clock); pubsubsource and sqssource are
// the cloud adapters.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
)

// Item is one dead-lettered message as a Source received it. The Delivery
// comes from the forwarder's own decoding (MessagePublishedData.Delivery,
// lambdasqs.Delivery), so both functions read a queued event the same way.
type Item struct {
	forwarder.Delivery
	Handle string // Pub/Sub ack id, SQS receipt handle
}

// Source is the dead-letter subscription or queue.
type Source interface {
	// Receive returns up to max messages and keeps them from other
	// receivers for hold (ack deadline, visibility timeout), so a run does
	// not see what it already holds. None, without error, means the queue
	// looks empty.
	Receive(ctx context.Context, max int, hold time.Duration) ([]Item, error)
	// Ack removes messages for good: delivered, or re-parked.
	Ack(ctx context.Context, items []Item) error
	// Release hands messages back untouched, visible again at once.
	Release(ctx context.Context, items []Item) error
}

// HoldLimiter is a Source that can hold a message for a limited time only
// (Pub/Sub's longest ack deadline is 10 min): a run's hold must fit in it,
// or messages it still holds come back to it, and to other runs, mid-run.
type HoldLimiter interface {
	MaxHold() time.Duration
}

// Seeker rewinds the live events subscription to a time, so Pub/Sub
// redelivers what was published since (retain_acked_messages must be on).
type Seeker interface {
	Seek(ctx context.Context, to time.Time) error
	Name() string
}

// Clock is time for the budget and the rate cap; tests drive a fake one.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Config tunes a Backfill.
type Config struct {
	// Budget is how long one run may take; it must leave room below the
	// function timeout for the sends in flight and the final acks. A context
	// deadline (Lambda's) shortens it further, by Reserve.
	Budget  time.Duration
	Reserve time.Duration
	// Rate caps resends per second (a request may ask for less, never
	// more), so a backfill never starves live traffic of platform quota.
	Rate float64
	// Batch is the most messages received at once.
	Batch int
	// Concurrency is the most sends in flight.
	Concurrency int
	// FailureLimit consecutive retryable failures end the run: Moloco asks
	// clients to stop calling after more than 5 failures in a row.
	FailureLimit int
	// ArchiveLateness is how long after an event's own time ingest may
	// still have queued it: an archive replay reads the files written up to
	// this long after the window's end.
	ArchiveLateness time.Duration
}

// Deps are the collaborators.
type Deps struct {
	Source        Source
	Sender        delivery.Sender
	InvalidateKey delivery.KeyInvalidator
	DeadLetter    queue.Publisher // where still-failing events are re-parked
	Erased        Suppressions    // nil: no erasure list
	Replay        Seeker          // nil: replay_from is refused
	Archive       archive.Reader  // nil: archive is refused
	Cursors       ledger.Cursors  // an archive replay's saved place; nil: none (each run starts over)
	Clock         Clock
	Logger        *slog.Logger
}

// Backfill is safe for concurrent use, though one run at a time is the
// intended use (a scheduler, or an operator).
type Backfill struct {
	cfg Config
	d   Deps
}

// New returns a Backfill.
func New(cfg Config, d Deps) (*Backfill, error) {
	if d.Source == nil || d.Sender == nil || d.DeadLetter == nil {
		return nil, errors.New("backfill: a source, a sender and a dead-letter publisher are required")
	}
	// Budget, Rate and Batch come complete from the settings registry; a
	// zero is a caller that skipped it, not a wish for some default.
	if cfg.Budget <= 0 || cfg.Rate <= 0 || cfg.Batch <= 0 {
		return nil, fmt.Errorf("backfill: Budget (BACKFILL_TIME_BUDGET), Rate (BACKFILL_RATE) and Batch (BACKFILL_BATCH) must be positive, got %s, %g, %d",
			cfg.Budget, cfg.Rate, cfg.Batch)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.FailureLimit <= 0 {
		cfg.FailureLimit = 6
	}
	if cfg.ArchiveLateness <= 0 {
		cfg.ArchiveLateness = 24 * time.Hour
	}
	if d.Clock == nil {
		d.Clock = RealClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if l, ok := d.Source.(HoldLimiter); ok && cfg.hold() > l.MaxHold() {
		most := l.MaxHold() - cfg.Reserve - time.Minute
		return nil, fmt.Errorf("BACKFILL_TIME_BUDGET=%s is too long for this queue: a run holds what it received for the budget + %s (the platform timeout and 5 s) + 1 min, and the queue holds a message at most %s; at most %s",
			cfg.Budget, cfg.Reserve, l.MaxHold(), most)
	}
	return &Backfill{cfg: cfg, d: d}, nil
}

// hold is how long a run keeps what it received from other receivers: past
// the run's end by a margin (a minute, or the budget when shorter), so
// nothing comes back while this run still has it; what a failed receive
// took is hidden this long.
func (c Config) hold() time.Duration {
	return c.Budget + c.Reserve + min(time.Minute, c.Budget)
}

// Stop reasons.
const (
	StopDrained         = "drained"          // the queue came back empty
	StopTimeBudget      = "time_budget"      // the budget ran out
	StopMaxEvents       = "max_events"       // the request's max_events was reached
	StopPlatformFailing = "platform_failing" // FailureLimit retryable failures in a row
	StopQueueError      = "queue_error"      // the dead-letter queue failed
	StopReplayed        = "replayed"         // a replay_from request
	// An archive replay also stops with StopErasureUnavailable.
)

// Summary is what one run did; it is the answer and the log line.
type Summary struct {
	DryRun bool `json:"dry_run"`
	// Scanned messages were received and looked at (each once per run).
	Scanned int `json:"scanned"`
	// Selected matched the request; in a dry run, what would be resent.
	Selected int `json:"selected"`
	// Resent were accepted by the platform and acknowledged.
	Resent int `json:"resent"`
	// StillFailing failed again, by class, and were re-parked with the new
	// reason and one more attempt.
	StillFailing map[string]int `json:"still_failing"`
	// Erased were an erased person's: acknowledged, never sent (in a dry
	// run, counted and left).
	Erased int `json:"erased"`
	// Skipped did not match the request and were left untouched.
	Skipped int `json:"skipped"`
	// Deferred matched but were not sent before the run stopped; untouched.
	Deferred int `json:"deferred"`
	// Duplicates are further dead letters of an event already scanned in
	// this run (the queue holds at least once). A copy of an event this run
	// resent or erased is acknowledged; any other is left, since a
	// re-parked event's new message is such a copy too.
	Duplicates int `json:"duplicates"`
	// QueueErrors are failed queue calls; their messages come back later.
	QueueErrors   int     `json:"queue_errors"`
	MoreRemaining bool    `json:"more_remaining"`
	StopReason    string  `json:"stop_reason"`
	Rate          float64 `json:"rate"`
	// ReplayedFrom and ReplaySubscription describe a replay_from request.
	ReplayedFrom       string `json:"replayed_from,omitempty"`
	ReplaySubscription string `json:"replay_subscription,omitempty"`
	// Archive describes an archive replay.
	Archive *ArchiveProgress `json:"archive,omitempty"`
}

// ErrBadParams marks a request the caller must correct.
var ErrBadParams = errors.New("bad backfill parameters")

// Run performs one backfill. Its error is ErrBadParams for a request that
// cannot run, or the queue's error when the run stopped on one (the Summary
// is filled in either way).
func (b *Backfill) Run(ctx context.Context, p Params) (Summary, error) {
	sel, err := p.selection()
	if err != nil {
		return Summary{DryRun: p.DryRun}, err
	}
	if p.ReplayFrom != "" {
		return b.replay(ctx, p)
	}
	if p.Archive {
		return b.replayArchive(ctx, p, sel)
	}
	r := &run{b: b, sel: sel, p: p, s: Summary{DryRun: p.DryRun, StillFailing: map[string]int{}},
		seen: map[string]bool{}, settled: map[string]bool{}, cleanup: context.WithoutCancel(ctx)}
	r.s.Rate = b.cfg.Rate
	if p.Rate > 0 && p.Rate < b.cfg.Rate {
		r.s.Rate = p.Rate
	}
	start := b.d.Clock.Now()
	r.deadline = start.Add(b.cfg.Budget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-b.cfg.Reserve).Before(r.deadline) {
		r.deadline = dl.Add(-b.cfg.Reserve)
	}
	r.limiter = rate.NewLimiter(rate.Limit(r.s.Rate), 1)
	runErr := r.loop(ctx)
	if err := r.ackDuplicates(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	// Everything still held goes back untouched.
	if len(r.held) > 0 {
		if err := b.d.Source.Release(r.cleanup, r.held); err != nil {
			r.s.QueueErrors++
			runErr = errors.Join(runErr, err)
		}
	}
	r.s.MoreRemaining = r.s.StopReason != StopDrained
	b.log(ctx, r.s, b.d.Clock.Now().Sub(start), runErr)
	return r.s, runErr
}

func (b *Backfill) replay(ctx context.Context, p Params) (Summary, error) {
	s := Summary{DryRun: p.DryRun, StillFailing: map[string]int{}, StopReason: StopReplayed, ReplayedFrom: p.ReplayFrom}
	if b.d.Replay == nil {
		return s, fmt.Errorf("%w: replay_from needs BACKFILL_REPLAY_SUBSCRIPTION (Pub/Sub only)", ErrBadParams)
	}
	s.ReplaySubscription = b.d.Replay.Name()
	at, _ := time.Parse(time.RFC3339, p.ReplayFrom) // checked by selection
	if at.After(b.d.Clock.Now()) {
		return s, fmt.Errorf("%w: replay_from %s is in the future", ErrBadParams, p.ReplayFrom)
	}
	var err error
	if !p.DryRun {
		if err = b.d.Replay.Seek(ctx, at); err != nil {
			s.QueueErrors++
			s.StopReason = StopQueueError
		}
	}
	b.log(ctx, s, 0, err)
	return s, err
}

func (b *Backfill) log(ctx context.Context, s Summary, took time.Duration, err error) {
	attrs := []slog.Attr{slog.Bool("dry_run", s.DryRun), slog.Int("scanned", s.Scanned), slog.Int("selected", s.Selected),
		slog.Int("resent", s.Resent), slog.Any("still_failing", s.StillFailing), slog.Int("skipped", s.Skipped), slog.Int("erased", s.Erased),
		slog.Int("deferred", s.Deferred), slog.Int("duplicates", s.Duplicates), slog.Int("queue_errors", s.QueueErrors), slog.Bool("more_remaining", s.MoreRemaining),
		slog.String("stop_reason", s.StopReason), slog.Float64("rate", s.Rate), slog.Duration("took", took),
		slog.String("outcome", "completed")}
	if s.ReplayedFrom != "" {
		attrs = append(attrs, slog.String("replayed_from", s.ReplayedFrom), slog.String("replay_subscription", s.ReplaySubscription))
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
		attrs[len(attrs)-1] = slog.String("outcome", "failed")
		attrs = append(attrs, slog.String("error", err.Error()))
		if variable, ok := queue.Setting(err); ok { // the dead-letter queue refuses us: a setting to fix
			attrs = append(attrs, slog.String("variable", variable))
		}
	}
	b.d.Logger.LogAttrs(ctx, level, "backfill", attrs...)
}

// logEvent writes one "backfill event" line per event sent, with the
// forwarder's field names, so an event's path goes on past its dead letter.
func (b *Backfill) logEvent(ctx context.Context, outcome string, p pending, class string) {
	attrs := []slog.Attr{slog.String("outcome", outcome), slog.String("event_id", p.id),
		slog.String("source", p.item.Attributes[queue.AttrSource]), slog.String("message_id", p.item.MessageID),
		slog.Int("status", p.res.Status)}
	level := slog.LevelInfo
	if class != "" {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("class", class))
	}
	b.d.Logger.LogAttrs(ctx, level, "backfill event", attrs...)
}

// run is the state of one Run.
type run struct {
	b        *Backfill
	sel      selection
	p        Params
	s        Summary
	deadline time.Time
	limiter  *rate.Limiter
	seen     map[string]bool // event keys (else message ids) handled this run
	settled  map[string]bool // of those, resent or erased and acknowledged
	dups     []duplicate     // later copies of a seen event, settled at the end
	held     []Item          // handed back untouched at the end
	drop     []Item          // erased people's, to acknowledge unsent
	dropKeys []string        // their seen keys
	acted    int             // selected and sent (or counted, in a dry run)
	failures atomic.Int32    // consecutive retryable failures
	// cleanup outlives the caller's context, so acks and releases still
	// happen when the run was cancelled.
	cleanup context.Context
}

// idleReceives is how many receives in a row bringing nothing new (and
// less than a batch) end a run as drained.
const idleReceives = 3

func (r *run) loop(ctx context.Context) error {
	cfg := r.b.cfg
	hold := cfg.hold()
	idle := 0 // receives in a row that brought nothing new
	for {
		switch {
		case !r.b.d.Clock.Now().Before(r.deadline) || ctx.Err() != nil:
			r.s.StopReason = StopTimeBudget
			return nil
		case r.p.MaxEvents > 0 && r.acted >= r.p.MaxEvents:
			r.s.StopReason = StopMaxEvents
			return nil
		}
		items, err := r.b.d.Source.Receive(ctx, cfg.Batch, hold)
		if err != nil {
			if ctx.Err() != nil {
				r.s.StopReason = StopTimeBudget
				return nil
			}
			r.s.QueueErrors++
			r.s.StopReason = StopQueueError
			return err
		}
		if len(items) == 0 {
			r.s.StopReason = StopDrained
			return nil
		}
		scanned := r.s.Scanned
		send := r.triage(items)
		if err := r.ackErased(); err != nil {
			r.s.StopReason = StopQueueError
			return err
		}
		if r.s.Scanned == scanned && len(items) < cfg.Batch {
			// Nothing new, and less than a batch: what came back was seen
			// earlier in this run (re-parked, or a redelivery the queue made
			// although it was acknowledged). A queue may answer with fewer
			// messages than it holds (a Pub/Sub pull often does), so one such
			// answer does not prove the rest is gone; a few in a row do, and
			// pulling on would only return the same until the budget ran out.
			if idle++; idle == idleReceives {
				r.s.StopReason = StopDrained
				return nil
			}
		} else {
			idle = 0
		}
		if stop, err := r.resend(ctx, send); stop != "" {
			r.s.StopReason = stop
			return err
		}
	}
}

// triage counts a batch and picks what to send; the rest is held.
func (r *run) triage(items []Item) []pending {
	var send []pending
	for _, it := range items {
		e, id, err := forwarder.Decode(it.Delivery)
		key := "message:" + it.MessageID
		if id != "" {
			key = event.Key(it.Attributes[queue.AttrSource], id)
		}
		if r.seen[key] {
			// Another copy, or this run's re-parked message: not twice.
			r.s.Duplicates++
			r.dups = append(r.dups, duplicate{key: key, item: it})
			continue
		}
		r.seen[key] = true
		r.s.Scanned++
		if err == nil && r.erased(it, key, id, &e) {
			continue
		}
		if err != nil || !r.sel.matches(it.Attributes, e) {
			r.s.Skipped++
			r.held = append(r.held, it)
			continue
		}
		if r.p.MaxEvents > 0 && r.acted >= r.p.MaxEvents {
			r.s.Deferred++
			r.held = append(r.held, it)
			continue
		}
		r.s.Selected++
		r.acted++
		if r.p.DryRun {
			r.held = append(r.held, it)
			continue
		}
		send = append(send, pending{item: it, id: id, key: key})
	}
	return send
}

type pending struct {
	item Item
	id   string
	key  string // event.Key, else the message id (run.seen)
	res  mcm.Result
	sent bool
}

// resend sends a batch within the rate cap and the budget, then acks what
// was delivered and re-parks what failed. It returns a stop reason when
// the run must end.
func (r *run) resend(ctx context.Context, batch []pending) (string, error) {
	stop := ""
	sem := make(chan struct{}, r.b.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range batch {
		if stop == "" {
			sem <- struct{}{} // first, so the failures of the sends before are known
			if int(r.failures.Load()) >= r.b.cfg.FailureLimit {
				stop = StopPlatformFailing
			} else if !r.wait(ctx) {
				stop = StopTimeBudget
			}
			if stop != "" {
				<-sem
			}
		}
		if stop != "" {
			r.s.Deferred++
			r.held = append(r.held, batch[i].item)
			continue
		}
		wg.Add(1)
		go func(p *pending) {
			defer func() { <-sem; wg.Done() }()
			p.res, p.sent = delivery.Send(ctx, r.b.d.Sender, r.b.d.InvalidateKey, p.item.Body), true
			switch p.res.Class {
			case mcm.Delivered, mcm.Permanent, mcm.AuthFailed:
				r.failures.Store(0) // the platform answered
			default:
				r.failures.Add(1)
			}
		}(&batch[i])
	}
	wg.Wait()
	var ack, repark []Item
	var delivered []string // keys of what the platform accepted
	var failed []pending
	var msgs []queue.Message
	for _, p := range batch {
		if !p.sent {
			continue
		}
		if p.res.Class == mcm.Delivered {
			r.s.Resent++
			ack = append(ack, p.item)
			delivered = append(delivered, p.key)
			r.b.logEvent(ctx, "resent", p, "")
			continue
		}
		class := delivery.ClassOf(p.res)
		r.s.StillFailing[class]++
		failed = append(failed, p)
		repark = append(repark, p.item)
		msgs = append(msgs, r.reparked(p, class))
	}
	var errs []error
	if len(msgs) > 0 {
		for i, err := range r.b.d.DeadLetter.Publish(r.cleanup, msgs) {
			if err == nil {
				ack = append(ack, repark[i])
				r.b.logEvent(ctx, "reparked", failed[i], msgs[i].Attributes[delivery.AttrDLClass])
				continue
			}
			// Not re-parked: the old message goes back as it was.
			r.s.QueueErrors++
			r.held = append(r.held, repark[i])
			errs = append(errs, err)
		}
	}
	if len(ack) > 0 {
		if err := r.b.d.Source.Ack(r.cleanup, ack); err != nil {
			// The messages come back after their hold; delivered ones are
			// resent once more with the same id and body.
			r.s.QueueErrors++
			errs = append(errs, err)
		} else {
			for _, k := range delivered {
				r.settled[k] = true
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return StopQueueError, err
	}
	return stop, nil
}

// duplicate is a later copy of an event seen earlier in the run.
type duplicate struct {
	key  string
	item Item
}

// ackDuplicates settles the later copies at the end of the run, when every
// send is known: a copy of an event resent or erased is acknowledged (the
// event needs no second send), every other copy is held and handed back.
// A re-parked event's copies stay: its new message is one of them.
func (r *run) ackDuplicates() error {
	var ack []Item
	for _, d := range r.dups {
		if r.settled[d.key] {
			ack = append(ack, d.item)
		} else {
			r.held = append(r.held, d.item)
		}
	}
	r.dups = nil
	if len(ack) == 0 {
		return nil
	}
	if err := r.b.d.Source.Ack(r.cleanup, ack); err != nil {
		// They come back after their hold and are resent once more.
		r.s.QueueErrors++
		return err
	}
	return nil
}

// wait spends the rate cap's delay before one send; false when the budget
// ends first.
func (r *run) wait(ctx context.Context) bool {
	now := r.b.d.Clock.Now()
	res := r.limiter.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if !now.Add(delay).Before(r.deadline) {
		res.CancelAt(now)
		return false
	}
	if delay > 0 {
		if err := r.b.d.Clock.Sleep(ctx, delay); err != nil {
			return false
		}
	}
	return true
}

// reparked is the message that parks a still-failing event again: the
// original body and attributes, the new reason, one more attempt.
func (r *run) reparked(p pending, class string) queue.Message {
	attempts, _ := strconv.Atoi(p.item.Attributes[delivery.AttrDLAttempts])
	dl := delivery.DeadLetter{Class: class, Status: p.res.Status, Reason: delivery.Reason(p.res),
		Attempts: attempts + 1, At: r.b.d.Clock.Now()}
	id := p.id
	if id == "" {
		id = p.item.MessageID
	}
	return queue.Message{ID: id, Body: p.item.Body, Attributes: dl.Attributes(p.item.Attributes, p.id)}
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
