package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/queue"
)

// Replay from the archive: every archived event of [from, to) (event time)
// that matches the types and sources is sent again, byte for byte as ingest
// queued it (same id and timestamp: the platform de-duplicates by id).
// Erased people's events are never sent. A still-failing event is parked
// in the dead-letter store, where the ordinary backfill finds it. After
// each batch the place is saved in the ledger (Cursors), so the next run
// of the same request goes on where this one stopped.

// StopErasureUnavailable ends a replay when the erasure list cannot be
// read: going on would mean skipping or sending an event unchecked.
const StopErasureUnavailable = "erasure_list_unavailable"

// earlyMargin is how much earlier than an event's own time its file can
// start: a file spans up to archive.FileSpan, and a client's clock may run
// ahead of ours by INGEST_FUTURE_SKEW (at most an hour).
const earlyMargin = archive.FileSpan + time.Hour

// cursorLife is how long a replay's place is kept after its last save.
const cursorLife = 30 * 24 * time.Hour

// ArchiveProgress is where a replay from the archive got to.
type ArchiveProgress struct {
	Location  string `json:"location"`
	Files     int    `json:"files"`      // listed for the window
	FilesDone int    `json:"files_done"` // read to the end, this run and earlier ones
	Resumed   bool   `json:"resumed"`    // went on from a saved place
	// Cursor is the saved place ("" for a dry run, which saves none).
	Cursor string `json:"cursor,omitempty"`
}

// archiveCursor is the saved place: the file being read and how many of its
// records were dealt with; Complete once every file was.
type archiveCursor struct {
	File     string `json:"file,omitempty"`
	Done     int    `json:"done,omitempty"`
	Complete bool   `json:"complete,omitempty"`
}

// cursorKey names a request's place: the same window, types and sources
// resume; anything else is another replay.
func (p Params) cursorKey(sel selection) string {
	canon := strings.Join([]string{sel.from.UTC().Format(time.RFC3339Nano), sel.to.UTC().Format(time.RFC3339Nano),
		strings.Join(sortedKeys(sel.types), ","), strings.Join(sortedKeys(sel.sources), ",")}, "|")
	sum := sha256.Sum256([]byte(canon))
	return "backfill-archive/" + hex.EncodeToString(sum[:16])
}

func (b *Backfill) replayArchive(ctx context.Context, p Params, sel selection) (Summary, error) {
	s := Summary{DryRun: p.DryRun, StillFailing: map[string]int{}, Rate: b.cfg.Rate}
	if p.Rate > 0 && p.Rate < b.cfg.Rate {
		s.Rate = p.Rate
	}
	if b.d.Archive == nil {
		return s, fmt.Errorf("%w: archive needs BACKFILL_ARCHIVE (the archive bucket or folder)", ErrBadParams)
	}
	s.Archive = &ArchiveProgress{Location: b.d.Archive.Location()}
	start := b.d.Clock.Now()
	r := &run{b: b, p: p, s: s, deadline: start.Add(b.cfg.Budget), cleanup: context.WithoutCancel(ctx)}
	if dl, ok := ctx.Deadline(); ok && dl.Add(-b.cfg.Reserve).Before(r.deadline) {
		r.deadline = dl.Add(-b.cfg.Reserve)
	}
	r.limiter = rate.NewLimiter(rate.Limit(r.s.Rate), 1)
	a := &archiveRun{run: r, sel: sel, key: p.cursorKey(sel), seen: map[string]bool{}}
	err := a.replay(ctx)
	r.s.MoreRemaining = r.s.StopReason != StopDrained
	b.log(ctx, r.s, b.d.Clock.Now().Sub(start), err)
	return r.s, err
}

type archiveRun struct {
	*run
	sel  selection
	key  string
	cur  archiveCursor
	seen map[string]bool // event keys met this run (the archive holds at least once)
}

func (a *archiveRun) replay(ctx context.Context) error {
	prog := a.s.Archive
	if !a.p.DryRun && a.b.d.Cursors != nil && !a.p.Restart {
		raw, err := a.b.d.Cursors.Cursor(a.cleanup, a.key)
		if err != nil {
			a.s.StopReason = StopQueueError
			return fmt.Errorf("reading the replay's cursor: %w", err)
		}
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &a.cur); err != nil {
				return fmt.Errorf("the replay's cursor %q: %w", raw, err)
			}
			prog.Resumed = true
		}
	}
	files, err := a.b.d.Archive.Files(ctx, a.sel.from.Add(-earlyMargin), a.sel.to.Add(a.b.cfg.ArchiveLateness))
	if err != nil {
		a.s.StopReason = StopQueueError
		return fmt.Errorf("listing the archive: %w", err)
	}
	prog.Files = len(files)
	if a.cur.Complete {
		prog.FilesDone = len(files)
		prog.Cursor = a.key
		a.s.StopReason = StopDrained
		return nil
	}
	for _, f := range files {
		if a.cur.File != "" && f.Name < a.cur.File {
			prog.FilesDone++
			continue
		}
		skip := 0
		if f.Name == a.cur.File {
			skip = a.cur.Done
		}
		stop, err := a.file(ctx, f, skip)
		if stop != "" || err != nil {
			a.s.StopReason = stop
			return err
		}
		prog.FilesDone++
	}
	a.s.StopReason = StopDrained
	return a.save(archiveCursor{Complete: true})
}

// file replays one file from its skip-th record, a batch at a time.
func (a *archiveRun) file(ctx context.Context, f archive.File, skip int) (string, error) {
	name := f.Name
	rc, err := a.b.d.Archive.Open(ctx, name)
	if err != nil {
		return StopQueueError, fmt.Errorf("opening %s: %w", name, err)
	}
	var recs []archive.Record
	err = f.Decode(rc, func(r archive.Record) error { recs = append(recs, r); return nil })
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return StopQueueError, fmt.Errorf("reading %s: %w", name, err)
	}
	for i := skip; i < len(recs); {
		switch {
		case !a.b.d.Clock.Now().Before(a.deadline) || ctx.Err() != nil:
			return StopTimeBudget, nil
		case a.p.MaxEvents > 0 && a.acted >= a.p.MaxEvents:
			return StopMaxEvents, nil
		}
		end := min(i+a.b.cfg.Batch, len(recs))
		if a.p.MaxEvents > 0 {
			end = min(end, i+a.p.MaxEvents-a.acted) // no record past the limit is consumed
		}
		sent, stop, err := a.batch(ctx, recs[i:end])
		i += sent
		if err == nil && sent > 0 {
			err = a.save(archiveCursor{File: name, Done: i})
		}
		if stop != "" || err != nil {
			if stop == "" {
				stop = StopQueueError
			}
			return stop, err
		}
	}
	return "", nil
}

func (a *archiveRun) save(c archiveCursor) error {
	if a.p.DryRun || a.b.d.Cursors == nil {
		return nil
	}
	raw, _ := json.Marshal(c)
	if err := a.b.d.Cursors.SaveCursor(a.cleanup, a.key, string(raw), a.b.d.Clock.Now().Add(cursorLife)); err != nil {
		a.s.QueueErrors++
		return fmt.Errorf("saving the replay's cursor: %w", err)
	}
	a.s.Archive.Cursor = a.key
	return nil
}

// batch triages and sends records; it returns how many leading records
// are settled (sent, parked, skipped or erased), which is where the cursor
// goes, and a stop reason when the run must end.
func (a *archiveRun) batch(ctx context.Context, recs []archive.Record) (int, string, error) {
	var send []pending
	for n, rec := range recs {
		d := forwarder.Delivery{MessageID: rec.MessageID, Body: rec.Data, Attributes: rec.Attributes, PublishTime: rec.PublishTime}
		e, id, err := forwarder.Decode(d)
		a.s.Scanned++
		if err != nil || !a.sel.matchesArchived(d.Attributes, e) {
			a.s.Skipped++
			continue
		}
		key := event.Key(d.Attributes[queue.AttrSource], id)
		if a.seen[key] {
			a.s.Duplicates++
			continue
		}
		if a.b.d.Erased != nil {
			gone, err := a.b.d.Erased.ErasedOne(a.cleanup, &e)
			if err != nil {
				a.s.Scanned -= len(recs) - n // not looked at: the next run sees them
				a.b.d.Logger.LogAttrs(a.cleanup, slog.LevelWarn, "erasure list unavailable; replay stopped",
					slog.String("message_id", rec.MessageID), slog.String("error", err.Error()))
				sent, stop, serr := a.send(ctx, send)
				if stop == "" && serr == nil {
					return n, StopErasureUnavailable, fmt.Errorf("erasure list: %w", err)
				}
				return sent, stop, serr
			}
			if gone {
				a.seen[key] = true
				a.s.Erased++
				continue
			}
		}
		a.seen[key] = true
		a.s.Selected++
		a.acted++
		if !a.p.DryRun {
			send = append(send, pending{item: Item{Delivery: d}, id: id, key: key})
		}
	}
	if sent, stop, err := a.send(ctx, send); stop != "" || err != nil {
		// What was sent before the stop is settled; the cursor stays at
		// the batch's start when not everything was (a second send of the
		// same id is harmless: the platform de-duplicates).
		if sent < len(send) {
			return 0, stop, err
		}
		return len(recs), stop, err
	}
	return len(recs), "", nil
}

// send delivers within the rate cap and the budget; what fails is parked
// in the dead-letter store with its class (one attempt). It returns how
// many of batch were settled.
func (a *archiveRun) send(ctx context.Context, batch []pending) (int, string, error) {
	stop := ""
	sem := make(chan struct{}, a.b.cfg.Concurrency)
	var wg sync.WaitGroup
	started := 0
	for i := range batch {
		sem <- struct{}{}
		if int(a.failures.Load()) >= a.b.cfg.FailureLimit {
			stop = StopPlatformFailing
		} else if !a.wait(ctx) {
			stop = StopTimeBudget
		}
		if stop != "" {
			<-sem
			break
		}
		started++
		wg.Add(1)
		go func(p *pending) {
			defer func() { <-sem; wg.Done() }()
			p.res, p.sent = delivery.Send(ctx, a.b.d.Sender, a.b.d.InvalidateKey, p.item.Body), true
			switch p.res.Class {
			case mcm.Delivered, mcm.Permanent, mcm.AuthFailed:
				a.failures.Store(0)
			default:
				a.failures.Add(1)
			}
		}(&batch[i])
	}
	wg.Wait()
	a.s.Deferred += len(batch) - started
	var msgs []queue.Message
	var failed []pending
	for _, p := range batch[:started] {
		if p.res.Class == mcm.Delivered {
			a.s.Resent++
			a.b.logEvent(ctx, "resent", p, "")
			continue
		}
		class := delivery.ClassOf(p.res)
		a.s.StillFailing[class]++
		failed = append(failed, p)
		msgs = append(msgs, a.reparked(p, class))
	}
	var errs []error
	if len(msgs) > 0 {
		for i, err := range a.b.d.DeadLetter.Publish(a.cleanup, msgs) {
			if err != nil {
				a.s.QueueErrors++
				errs = append(errs, err)
				continue
			}
			a.b.logEvent(ctx, "parked", failed[i], msgs[i].Attributes[delivery.AttrDLClass])
		}
	}
	if err := errors.Join(errs...); err != nil {
		return 0, StopQueueError, err
	}
	return started, stop, nil
}
