package ingest

import (
	"context"
	"time"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// LedgerRecorder writes the events of the target types (those DFINERY may
// ask about) to the ledger; every other event skips it, so the hot path of
// ordinary traffic pays nothing. Entries are keyed by source and event id
// (ledger.Key), so two sources using the same ids never overwrite each
// other. The identifiers are the event's as published: cleansed (device ids
// in event.DeviceID's normal form) and hashed, exactly what verify computes
// from a callback.
type LedgerRecorder struct {
	Store ledger.Store
	Types map[string]bool
	TTL   time.Duration
	Now   func() time.Time
}

// Record implements Recorder.
func (l *LedgerRecorder) Record(ctx context.Context, source string, events []*event.Event) error {
	entries := make([]ledger.Entry, 0, len(events))
	now := l.Now
	if now == nil {
		now = time.Now
	}
	expires := now().Add(l.TTL)
	for _, e := range events {
		if !l.Types[e.EventType] {
			continue
		}
		entry := ledger.Entry{EventID: e.ID, Source: source, EventType: e.EventType,
			Time: e.Timestamp.Time(), UserID: e.UserID, ExpiresAt: expires}
		if d := e.Device; d != nil {
			for _, id := range []string{d.PersistentID, d.AdvertisingID, d.UniqueDeviceID} {
				if id != "" {
					entry.DeviceIDs = append(entry.DeviceIDs, id)
				}
			}
		}
		if e.Revenue != nil && e.Revenue.Amount != nil {
			amount := *e.Revenue.Amount
			entry.Revenue, entry.Currency = &amount, e.Revenue.Currency
		}
		entries = append(entries, entry)
	}
	if len(entries) == 0 {
		return nil
	}
	return l.Store.Put(ctx, entries)
}
