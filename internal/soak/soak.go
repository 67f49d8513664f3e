// Package soak is the load-and-fault run: it sends many events through
// ingest on the local stack while the Events API stand-in fails in bursts,
// throttles and times out, and while the forwarder, in a process of its
// own, is killed and restarted. Then it accounts for every event: delivered
// once by id, dead-lettered with a reason, or rejected at ingest with the
// field named.
package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
)

// Config sizes a run.
type Config struct {
	Events         int           // events sent, malformed ones included
	MalformedEvery int           // every Nth event is malformed (100: 1 %)
	BatchSize      int           // events per batch request; as many again go one per request
	Senders        int           // concurrent ingest clients
	Kills          int           // times the forwarder process is killed (SIGKILL) and restarted while sending
	Exe            string        // an eventrelay binary; `eventrelay serve` runs the forwarder
	Timeout        time.Duration // the whole run, drain included
	// MaxAttempts overrides the forwarder's FORWARDER_MAX_ATTEMPTS (0: 6);
	// a low value sends more events to the dead-letter queue, so the run's
	// backfill has work.
	MaxAttempts int
	Progress    io.Writer // progress lines; nil: none
}

// Report is the accounting of a run.
type Report struct {
	Events            int              `json:"events"`
	Malformed         int              `json:"malformed"`
	Requests          int64            `json:"requests"`
	RequestRetries    int64            `json:"request_retries"` // 503s and refused connections, retried as a client would
	Accepted          int              `json:"accepted"`
	RejectedWithField int              `json:"rejected_with_field"` // malformed events rejected naming the spoiled field
	MalformedMissed   int              `json:"malformed_missed"`    // malformed events accepted, or rejected for another field
	WronglyRejected   int              `json:"wrongly_rejected"`    // valid events rejected
	Delivered         int              `json:"delivered"`           // accepted events the platform holds
	DeliveredTwice    int              `json:"delivered_twice"`     // ids the platform got twice with different content: counted twice
	Resent            int              `json:"resent"`              // ids sent again byte for byte (a kill mid-call): the platform's id dedup absorbs them
	DeadLettered      int              `json:"dead_lettered"`       // accepted events in the dead-letter topic, not delivered
	DeadLetterReasons map[string]int   `json:"dead_letter_reasons"` // by class
	Reasonless        int              `json:"reasonless"`          // dead-lettered by the queue's own policy, without our reason
	Refused           int              `json:"refused"`             // accepted events the platform refuses (400, long multi-byte message)
	RefusedParked     int              `json:"refused_parked"`      // of those, dead-lettered as permanent and left there by the backfill
	Stuck             int              `json:"stuck"`               // accepted events still on their way when the drain gave up
	Backfilled        int              `json:"backfilled"`          // dead-lettered, then delivered by one backfill run
	StillDeadLettered int              `json:"still_dead_lettered"` // dead-lettered and still there after the backfill
	Backfill          backfill.Summary `json:"backfill"`
	Lost              int              `json:"lost"` // accepted, neither delivered nor dead-lettered
	Kills             int64            `json:"kills"`
	Sink              mcmsink.Stats    `json:"sink"`
	SendSeconds       float64          `json:"send_seconds"`
	DrainSeconds      float64          `json:"drain_seconds"`
	BackfillSeconds   float64          `json:"backfill_seconds"`
}

// OK is the pass criterion: nothing lost or stuck, nothing delivered twice
// (a byte-identical resend is one delivery by id), every dead letter
// carrying our reason, every event dead-lettered for a transient fault or
// a refused key delivered by the backfill, every event the platform
// refuses dead-lettered as permanent and left there (no loop), every
// malformed event rejected with its field and no valid one rejected.
func (r Report) OK() bool {
	return r.Lost == 0 && r.Stuck == 0 && r.DeliveredTwice == 0 && r.MalformedMissed == 0 && r.WronglyRejected == 0 &&
		r.RejectedWithField == r.Malformed && r.Accepted+r.Malformed == r.Events && r.StillDeadLettered == 0 &&
		r.Reasonless == 0 && r.RefusedParked == r.Refused
}

// Forwarder settings for the run: short backoffs so that a bounded run sees
// many retries; the mechanism is the one deployed, only the waits shrink.
var forwarderEnv = map[string]string{
	"FORWARDER_FIRST_BACKOFF":     "200ms",
	"FORWARDER_MAX_BACKOFF":       "2s",
	"FORWARDER_MAX_ATTEMPTS":      "6",
	"FORWARDER_BREAKER_THRESHOLD": "50",
	"FORWARDER_BREAKER_COOLDOWN":  "1s",
	"FORWARDER_CONCURRENCY":       "64",
	"MCM_TIMEOUT":                 "1s",
	"BACKFILL_RATE":               "2000",
	"BACKFILL_TIME_BUDGET":        "2s", // what one run holds stays hidden 10 s (see backfillRedelivery)
	"LOG_LEVEL":                   "error",
}

func (cfg Config) forwarderEnv() map[string]string {
	env := maps.Clone(forwarderEnv)
	if cfg.MaxAttempts > 0 {
		env["FORWARDER_MAX_ATTEMPTS"] = strconv.Itoa(cfg.MaxAttempts)
	}
	return env
}

// deadLetterTap is a second subscription on the dead-letter topic, read by
// the accounting only, so the backfill's own subscription stays untouched.
const deadLetterTap = "projects/" + devstack.Project + "/subscriptions/eventrelay-deadletter-soak-tap"

// pipeline is one cloud's path on the local stack, as the run drives it.
type pipeline interface {
	ingestURL() string
	apiKey() string
	sink() *mcmsink.Sink
	// crashForwarder ends the forwarder instance without warning, in the
	// middle of whatever it is doing, and starts a fresh one.
	crashForwarder(ctx context.Context) error
	// deadLettered reports whether the dead-letter queue received id, and
	// the class of reason it carried.
	deadLettered(id string) (class string, ok bool)
	// backfill runs the backfill function once with default parameters.
	backfill(ctx context.Context) (backfill.Summary, error)
	// parked reads, at the end, what the dead-letter store (the backfill's
	// subscription or queue) still holds: event id → class. It takes
	// nothing away. The tap only saw what arrived; an event counts as
	// parked only if the store still holds it.
	parked(ctx context.Context) (map[string]string, error)
}

// RunPubSub performs one run on the GCP path: ingest publishing to the
// Pub/Sub emulator, pushed to a forwarder in a process of its own (cfg.Exe
// serve), which the run kills with SIGKILL and restarts. An error means the
// run could not be carried out; a run that was carried out returns its
// Report, passing or not.
func RunPubSub(ctx context.Context, cfg Config) (_ *Report, err error) {
	if cfg.Exe == "" {
		return nil, errors.New("soak: Exe is required")
	}
	fwdAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	st, err := devstack.Start(ctx, devstack.Config{ExternalForwarder: "http://" + fwdAddr,
		PushMaxBackoff: 2 * time.Second, Env: cfg.forwarderEnv()})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	p := &pubsubPipeline{st: st, tap: newTap()}
	if err := p.tap.start(ctx, st.Client()); err != nil {
		return nil, err
	}
	p.fwd = &process{exe: cfg.Exe, addr: fwdAddr, env: append(os.Environ(), st.FunctionEnv("Forward")...)}
	if err := p.fwd.start(ctx); err != nil {
		return nil, err
	}
	defer p.fwd.stop()
	rep, err := run(ctx, cfg, p)
	if tapErr := p.tap.failure(); tapErr != nil {
		// Without the tap every dead letter reads as lost.
		return nil, errors.Join(err, fmt.Errorf("dead-letter tap: %w", tapErr))
	}
	return rep, err
}

type pubsubPipeline struct {
	st  *devstack.Stack
	tap *tap
	fwd *process
}

func (p *pubsubPipeline) ingestURL() string                        { return p.st.IngestURL }
func (p *pubsubPipeline) apiKey() string                           { return devstack.DevAPIKey }
func (p *pubsubPipeline) sink() *mcmsink.Sink                      { return p.st.Sink }
func (p *pubsubPipeline) crashForwarder(ctx context.Context) error { return p.fwd.restart(ctx) }
func (p *pubsubPipeline) deadLettered(id string) (string, bool)    { return p.tap.class(id) }

// parked pulls the backfill's dead-letter subscription and hands every
// message back at once (ack deadline 0), until pulls come back empty.
func (p *pubsubPipeline) parked(ctx context.Context) (map[string]string, error) {
	return pullParked(ctx, p.st.Client(), devstack.DeadLetterSub)
}

// pullParked reads what subscription sub holds, by event id and class,
// leaving it there. A message is pulled again only after its deadline, so
// three empty pulls in a row mean everything was seen.
func pullParked(ctx context.Context, c *pubsub.Client, sub string) (map[string]string, error) {
	out := map[string]string{}
	var acks []string
	defer func() { // hand everything back
		for len(acks) > 0 {
			n := min(len(acks), 1000)
			// Best effort: what is not handed back returns at its deadline.
			_ = c.SubscriptionAdminClient.ModifyAckDeadline(context.WithoutCancel(ctx),
				&pubsubpb.ModifyAckDeadlineRequest{Subscription: sub, AckIds: acks[:n], AckDeadlineSeconds: 0})
			acks = acks[n:]
		}
	}()
	for empty := 0; empty < 3; {
		resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 1000})
		if err != nil {
			return nil, err
		}
		if len(resp.ReceivedMessages) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, m := range resp.ReceivedMessages {
			a := m.GetMessage().GetAttributes()
			class := a[delivery.AttrDLClass]
			if class == "" {
				class = classPubSubPolicy
			}
			out[a[queue.AttrEventID]] = class
			acks = append(acks, m.GetAckId())
		}
	}
	return out, nil
}

// backfill calls the stack's backfill function over HTTP, as Cloud
// Scheduler does.
func (p *pubsubPipeline) backfill(ctx context.Context) (backfill.Summary, error) {
	var sum backfill.Summary
	body, _ := json.Marshal(backfillParams)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.st.BackfillURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sum, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return sum, fmt.Errorf("backfill answered %d: %s", resp.StatusCode, b)
	}
	return sum, json.Unmarshal(b, &sum)
}

// backfillParams are the operator's run after the faults: transient
// failures and the events dead-lettered while the key was refused (the key
// is right again); the events the platform refuses stay parked.
var backfillParams = backfill.Params{Reasons: backfill.List{delivery.ClassRetryable, delivery.ClassAuth}}

// run sends, crashes the forwarder along the way, drains and accounts.
func run(ctx context.Context, cfg Config, p pipeline) (*Report, error) {
	if cfg.Events <= 0 || cfg.BatchSize <= 0 || cfg.Senders <= 0 {
		return nil, errors.New("soak: Events, BatchSize and Senders are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	rep := &Report{Events: cfg.Events, DeadLetterReasons: map[string]int{}}
	runID := fmt.Sprintf("soak%d", time.Now().Unix()%100000)
	sent := newLedger(cfg.Events)
	faultsDone := startFaults(ctx, p.sink())

	// Send, crashing the forwarder at even intervals of the requests.
	start := time.Now()
	reqs := plan(cfg.Events, cfg.BatchSize)
	var done atomic.Int64
	killAt := map[int64]bool{}
	for k := 1; k <= cfg.Kills; k++ {
		killAt[int64(len(reqs)*k/(cfg.Kills+1))] = true
	}
	work := make(chan request)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Senders}}
	var sendErr error
	var errOnce sync.Once
	for w := 0; w < cfg.Senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				if err := send(ctx, client, p, runID, r, cfg.MalformedEvery, sent, rep); err != nil {
					errOnce.Do(func() { sendErr = err; cancel() })
				}
				if n := done.Add(1); killAt[n] {
					say(progress, "soak: %d/%d requests sent; crashing the forwarder\n", n, len(reqs))
					if err := p.crashForwarder(ctx); err != nil {
						errOnce.Do(func() { sendErr = err; cancel() })
					}
					atomic.AddInt64(&rep.Kills, 1)
				}
			}
		}()
	}
	for _, r := range reqs {
		select {
		case work <- r:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	faultsDone()
	if sendErr != nil {
		return nil, sendErr
	}
	rep.SendSeconds = time.Since(start).Seconds()
	say(progress, "soak: sent %d events in %d requests (%.1f s); faults off, draining\n",
		cfg.Events, rep.Requests, rep.SendSeconds)

	// Drain: wait until every accepted event is delivered or dead-lettered.
	drain := time.Now()
	accepted := sent.acceptedIDs()
	for tick := 0; ; tick++ {
		counts := p.sink().CountByID()
		left := 0
		for _, id := range accepted {
			if _, dead := p.deadLettered(id); counts[id] == 0 && !dead {
				left++
			}
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			say(progress, "soak: timed out with %d events unaccounted for\n", left)
			rep.Stuck = left
			rep.DrainSeconds = time.Since(drain).Seconds()
			return account(ctx, rep, sent, p, p.sink().CountByID(), cfg)
		case <-time.After(time.Second):
			if tick%15 == 0 {
				say(progress, "soak: %d events still on their way (%.0f s into the drain)\n", left, time.Since(drain).Seconds())
			}
		}
	}
	// Give redeliveries in flight a moment to show up as resends.
	time.Sleep(2 * time.Second)
	rep.DrainSeconds = time.Since(drain).Seconds()
	before := p.sink().CountByID()
	var err error
	backfillStart := time.Now()
	if rep.Backfill, err = backfillUntilDrained(ctx, p, progress); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	rep.BackfillSeconds = time.Since(backfillStart).Seconds()
	say(progress, "soak: backfill resent %d, still failing %v\n", rep.Backfill.Resent, rep.Backfill.StillFailing)
	return account(ctx, rep, sent, p, before, cfg)
}

// backfillRedelivery is how long messages a failed queue call left
// invisible take to come back: a run holds what it receives for twice its
// budget (2 s here) + its reserve (MCM_TIMEOUT + 5 s), 10 s; goaws makes
// them visible again some seconds late, so twice that and a second.
const backfillRedelivery = 21 * time.Second

// tapRedelivery is how long the messages the dead-letter tap held last
// (a 1 s visibility) may take to come back on goaws, which makes them
// visible again some seconds late.
const tapRedelivery = 5 * time.Second

// say writes a progress line. Progress is best effort: a terminal gone away
// must not fail the run it reports on, so a failed write is dropped.
func say(progress io.Writer, format string, a ...any) {
	_, _ = fmt.Fprintf(progress, format, a...)
}

// backfillUntilDrained runs the backfill as its schedule would: again
// until a run finds nothing left to resend, at most 30 times. A run that
// ends drained can still have missed messages a receive held (the soak's
// dead-letter tap, or a queue call that failed: goaws, behind its test
// proxy, has cut answers short), so the next run waits for them to come
// back. It returns the runs' summaries added up.
func backfillUntilDrained(ctx context.Context, p pipeline, progress io.Writer) (backfill.Summary, error) {
	var total backfill.Summary
	total.StillFailing = map[string]int{}
	var lastErr error
	for run := 0; run < 30; run++ {
		if run > 0 {
			wait := tapRedelivery
			if lastErr != nil || total.QueueErrors > 0 {
				wait = backfillRedelivery
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return total, ctx.Err()
			}
		}
		s, err := p.backfill(ctx)
		total.Scanned += s.Scanned
		total.Selected += s.Selected
		total.Resent += s.Resent
		total.Skipped += s.Skipped
		total.QueueErrors += s.QueueErrors
		for k, v := range s.StillFailing {
			total.StillFailing[k] += v
		}
		total.StopReason, total.MoreRemaining, total.Rate = s.StopReason, s.MoreRemaining, s.Rate
		clean := err == nil && !s.MoreRemaining && s.QueueErrors == 0
		switch {
		case clean && s.Scanned == s.Skipped:
			// A run found nothing left to resend.
			return total, nil
		case clean:
			say(progress, "soak: backfill drained; one more run for what a receive may have held\n")
		default:
			say(progress, "soak: backfill run stopped (%s, %v); running it again\n", s.StopReason, err)
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = errors.New("30 runs did not drain the dead letters")
	}
	return total, lastErr
}

// account classifies every event; before is the platform's count per id
// when the run had drained, ahead of the backfill. A dead letter the
// store no longer holds at the end, of an event the platform never got,
// is lost, whatever the tap saw.
func account(ctx context.Context, rep *Report, sent *sentLedger, p pipeline, before map[string]int, cfg Config) (*Report, error) {
	held, err := p.parked(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading the dead-letter store at the end: %w", err)
	}
	sink := p.sink()
	after := sink.CountByID()
	// At-least-once delivery means a forwarder killed between the
	// platform's answer and the queue's ack sends that event again when it
	// is redelivered. Moloco de-duplicates on the event id, so a resend is
	// harmless exactly when it carries the same id and the same body (the
	// original timestamp included); a resend that differs would be counted
	// twice.
	first := map[string]string{}
	differs := map[string]bool{}
	for _, r := range sink.Accepted() {
		if b, ok := first[r.ID]; !ok {
			first[r.ID] = string(r.Body)
		} else if b != string(r.Body) {
			differs[r.ID] = true
		}
	}
	rep.Sink = sink.Stats()
	rep.Accepted, rep.Malformed = 0, 0
	for i := range sent.state {
		s := sent.state[i]
		malformed := cfg.MalformedEvery > 0 && i%cfg.MalformedEvery == cfg.MalformedEvery-1
		if malformed {
			rep.Malformed++
			want := defects[(i/cfg.MalformedEvery)%len(defects)].Field
			if s.rejected && contains(s.fields, want) {
				rep.RejectedWithField++
			} else {
				rep.MalformedMissed++
			}
			continue
		}
		switch {
		case s.rejected:
			rep.WronglyRejected++
		case s.id != "":
			rep.Accepted++
			if refused(i) {
				rep.Refused++
				// Parked with a reason, and still in the store at the end:
				// permanent (one that came during the 401s was parked as
				// auth, then re-parked as permanent by the backfill).
				class, _ := p.deadLettered(s.id)
				switch {
				case held[s.id] == delivery.ClassPermanent && after[s.id] == 0:
					rep.RefusedParked++
				case after[s.id] == 0:
					rep.Lost++
				}
				if reasonless(class) {
					rep.Reasonless++
				}
				continue
			}
			if differs[s.id] {
				rep.DeliveredTwice++
			} else if after[s.id] > 1 {
				rep.Resent++
			}
			class, dead := p.deadLettered(s.id)
			if dead && before[s.id] == 0 && reasonless(class) {
				rep.Reasonless++
			}
			switch {
			case before[s.id] > 0:
				rep.Delivered++
			case !dead:
				rep.Lost++
			case after[s.id] > 0:
				rep.DeadLettered++
				rep.DeadLetterReasons[class]++
				rep.Backfilled++
			case held[s.id] != "":
				rep.DeadLettered++
				rep.DeadLetterReasons[class]++
				rep.StillDeadLettered++
			default:
				rep.Lost++ // dead-lettered, then gone from the store unsent
			}
		default:
			rep.Lost++ // sent but never answered with an id: counted as lost
		}
	}
	return rep, nil
}

// Classes the taps give a dead letter that carries no reason of ours.
const (
	classPubSubPolicy = "pubsub_max_delivery_attempts"
	classSQSRedrive   = "sqs_max_receive_count"
)

func reasonless(class string) bool { return class == classPubSubPolicy || class == classSQSRedrive }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// request is one ingest call: events [from, to) as a batch or alone.
type request struct {
	from, to int
	batch    bool
}

// plan alternates a batch of size events with as many single requests.
func plan(events, size int) []request {
	var out []request
	for from, k := 0, 0; from < events; k++ {
		to := min(from+size, events)
		if k%2 == 0 {
			out = append(out, request{from: from, to: to, batch: true})
		} else {
			for i := from; i < to; i++ {
				out = append(out, request{from: i, to: i + 1})
			}
		}
		from = to
	}
	return out
}

// sentLedger is what ingest answered for each event.
type sentLedger struct {
	mu    sync.Mutex
	state []eventState
}

type eventState struct {
	id       string // accepted (or already queued) under this id
	rejected bool
	fields   []string
}

func newLedger(n int) *sentLedger { return &sentLedger{state: make([]eventState, n)} }

func (l *sentLedger) acceptedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.state {
		if s.id != "" {
			out = append(out, s.id)
		}
	}
	return out
}

type ingestAnswer struct {
	Accepted []struct {
		Index int    `json:"index"`
		ID    string `json:"id"`
	} `json:"accepted"`
	Duplicates []struct {
		Index int    `json:"index"`
		ID    string `json:"id"`
		Of    int    `json:"of"`
	} `json:"duplicates"`
	Rejected []struct {
		Index  int `json:"index"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	} `json:"rejected"`
}

// send posts one request, retrying as a careful client does on 503 and on
// refused connections, and records ingest's answer for every event in it.
func send(ctx context.Context, client *http.Client, p pipeline, run string, r request, malformedEvery int, sent *sentLedger, rep *Report) error {
	now := time.Now()
	var body []byte
	evs := make([]any, 0, r.to-r.from)
	for i := r.from; i < r.to; i++ {
		bad := -1
		if malformedEvery > 0 && i%malformedEvery == malformedEvery-1 {
			bad = i / malformedEvery
		}
		evs = append(evs, makeEvent(run, i, now.Add(-time.Duration(i%1000)*time.Millisecond), bad))
	}
	if r.batch {
		body, _ = json.Marshal(evs)
	} else {
		body, _ = json.Marshal(evs[0])
	}
	for attempt := 1; ; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.ingestURL(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", p.apiKey())
		atomic.AddInt64(&rep.Requests, 1)
		resp, err := client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusAccepted, http.StatusBadRequest:
				var a ingestAnswer
				if err := json.Unmarshal(b, &a); err != nil {
					return fmt.Errorf("ingest answered %d with %q", resp.StatusCode, b)
				}
				sent.mu.Lock()
				for _, x := range a.Accepted {
					sent.state[r.from+x.Index].id = x.ID
				}
				for _, x := range a.Duplicates {
					sent.state[r.from+x.Index].id = x.ID // queued by an earlier try of this request
				}
				for _, x := range a.Rejected {
					s := &sent.state[r.from+x.Index]
					s.rejected = true
					for _, e := range x.Errors {
						s.fields = append(s.fields, e.Field)
					}
				}
				sent.mu.Unlock()
				return nil
			case http.StatusServiceUnavailable:
			default:
				return fmt.Errorf("ingest answered %d: %s", resp.StatusCode, b)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt == 20 {
			return fmt.Errorf("ingest did not take a request after 20 tries: %v", err)
		}
		atomic.AddInt64(&rep.RequestRetries, 1)
		time.Sleep(100 * time.Millisecond)
	}
}

// startFaults makes the stand-in misbehave: a steady mix of 5xx, 429 with
// Retry-After and timeouts; every few seconds a burst in which every call
// fails; once, first, an outage that opens the forwarder's circuit
// breaker, followed by a spell of 401s while it probes (a key rotation
// half done), then recovery; and throughout, a 400 with a long multi-byte
// message for the marked events. The returned func ends the faults once
// the breaker phase is over (a short run waits for it), except the 400s:
// the platform goes on refusing those events.
func startFaults(ctx context.Context, sink *mcmsink.Sink) func() {
	refusing := mcmsink.Faults{Refuse400: refusedMarker}
	base := mcmsink.Faults{Rate5xx: 0.05, Rate429: 0.03, RetryAfter: time.Second, RateTimeout: 0.005,
		Refuse400: refusedMarker, Seed: 7}
	burst := base
	burst.Down = true
	unauthorized := base
	unauthorized.Unauthorized = true
	sink.SetFaults(base)
	stop := make(chan struct{})
	phaseDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// spell sets f for d; false when the run is over.
		spell := func(f mcmsink.Faults, d time.Duration, stop <-chan struct{}) bool {
			sink.SetFaults(f)
			select {
			case <-stop:
				return false
			case <-ctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		}
		// The outage opens the breaker (the forwarder's cooldown is 1 s);
		// the 401s last through at least two probes.
		spell(base, 300*time.Millisecond, nil)
		spell(burst, 1500*time.Millisecond, nil)
		spell(unauthorized, 2500*time.Millisecond, nil)
		close(phaseDone)
		for spell(base, 4*time.Second, stop) && spell(burst, 800*time.Millisecond, stop) {
		}
	}()
	return func() {
		select {
		case <-phaseDone:
		case <-ctx.Done():
		}
		close(stop)
		wg.Wait()
		sink.SetFaults(refusing)
	}
}

// tap records the event ids that reach the dead-letter topic, and why.
type tap struct {
	mu      sync.Mutex
	classes map[string]string
	failed  error // why the subscription stopped receiving, if it did
}

func newTap() *tap { return &tap{classes: map[string]string{}} }

func (t *tap) start(ctx context.Context, c *pubsub.Client) error {
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: deadLetterTap, Topic: devstack.DeadLetterTopic, AckDeadlineSeconds: 60}); err != nil {
		return fmt.Errorf("dead-letter tap: %w", err)
	}
	sub := c.Subscriber(deadLetterTap)
	go func() {
		err := sub.Receive(ctx, func(_ context.Context, m *pubsub.Message) {
			class := m.Attributes[delivery.AttrDLClass]
			if class == "" {
				class = classPubSubPolicy // dead-lettered by the subscription itself
			}
			t.record(m.Attributes[queue.AttrEventID], class)
			m.Ack()
		})
		if err != nil {
			t.mu.Lock()
			t.failed = err
			t.mu.Unlock()
		}
	}()
	return nil
}

func (t *tap) failure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *tap) record(id, class string) {
	t.mu.Lock()
	t.classes[id] = class
	t.mu.Unlock()
}

func (t *tap) class(id string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.classes[id]
	return c, ok
}

// process is the forwarder in a process of its own.
type process struct {
	exe, addr string
	env       []string
	mu        sync.Mutex
	cmd       *exec.Cmd
	restartMu sync.Mutex // one restart at a time
}

func (p *process) start(ctx context.Context) error {
	cmd := exec.Command(p.exe, "serve", "-listen", p.addr)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the forwarder: %w", err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond); err == nil {
			return c.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the forwarder did not listen on %s", p.addr)
}

// restart kills the forwarder without warning, as a crashed or preempted
// instance dies, and starts a new one on the same address.
func (p *process) restart(ctx context.Context) error {
	p.restartMu.Lock()
	defer p.restartMu.Unlock()
	p.stop()
	time.Sleep(500 * time.Millisecond)
	return p.start(ctx)
}

func (p *process) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		// SIGKILL is the crash being simulated; Wait reaps the process, and its
		// error is that kill (or an exit already seen), nothing to act on.
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	return ln.Addr().String(), ln.Close()
}

// Print writes the report as a table, in one write.
func (r *Report) Print(w io.Writer) error {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "  %-28s %v\n", k, v) }
	row("events sent", r.Events)
	row("requests (retries)", strconv.FormatInt(r.Requests, 10)+" ("+strconv.FormatInt(r.RequestRetries, 10)+")")
	row("accepted at ingest", r.Accepted)
	row("malformed", r.Malformed)
	row("  rejected naming the field", r.RejectedWithField)
	row("  missed", r.MalformedMissed)
	row("valid but rejected", r.WronglyRejected)
	row("delivered", r.Delivered)
	row("delivered twice", r.DeliveredTwice)
	row("  resent, identical (dedup)", r.Resent)
	row("dead-lettered", r.DeadLettered)
	classes := make([]string, 0, len(r.DeadLetterReasons))
	for c := range r.DeadLetterReasons {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		row("  "+c, r.DeadLetterReasons[c])
	}
	row("  without our reason", r.Reasonless)
	row("refused by the platform (400)", fmt.Sprintf("%d (dead-lettered as permanent and left parked: %d)", r.Refused, r.RefusedParked))
	row("backfilled", fmt.Sprintf("%d (run: resent %d, still failing %v)", r.Backfilled, r.Backfill.Resent, r.Backfill.StillFailing))
	row("still dead-lettered", r.StillDeadLettered)
	row("lost / stuck", fmt.Sprintf("%d / %d", r.Lost, r.Stuck))
	row("forwarder kills", r.Kills)
	row("stand-in calls", r.Sink.Requests)
	row("  injected 5xx / 429 / timeouts", fmt.Sprintf("%d / %d / %d", r.Sink.Injected5xx, r.Sink.Injected429, r.Sink.Timeouts))
	row("  injected 401 / 400", fmt.Sprintf("%d / %d", r.Sink.Injected401, r.Sink.Injected400))
	row("send / drain / backfill s", fmt.Sprintf("%.1f / %.1f / %.1f", r.SendSeconds, r.DrainSeconds, r.BackfillSeconds))
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	row("result", verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
