// Package ledger keeps a short-lived record of the events ingest accepted
// for the event types DFINERY may ask about, so verify can confirm from our
// own data that an event really happened. Backends: Firestore (GCP),
// DynamoDB (AWS), each with native TTL, and Memory for tests and local runs.
//
// Identifiers are stored as ingest published them (hashed when configured),
// and verify hashes a callback's identifiers the same way before looking up,
// so no raw personal data is stored here either.
//
// An entry is keyed by its ingest source and event id together, so two
// sources sending the same id keep two entries. The same backends keep
// verify's shared state (see Verdicts): the verdict given to each signed
// body, and which callback claimed which entry.
package ledger

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Entry is one recorded event.
type Entry struct {
	EventID   string    // the event id: for purchases usually the order id
	Source    string    // the ingest source that sent it
	EventType string    // MCM event type, e.g. PURCHASE
	Time      time.Time // the event's own timestamp
	UserID    string    // as published (hashed when configured)
	DeviceIDs []string  // persistent_id, advertising_id, unique_device_id, as published
	Revenue   *float64
	Currency  string
	ExpiresAt time.Time
}

// Key identifies an entry: the same event id from two sources is two
// entries.
type Key struct{ Source, EventID string }

// Key returns e's key.
func (e Entry) Key() Key { return Key{Source: e.Source, EventID: e.EventID} }

// Query finds entries for a callback: by event id when it names one,
// otherwise by a device or user identifier and type within a time window.
type Query struct {
	EventID   string
	DeviceID  string
	UserID    string
	EventType string
	// Sources limits the answer to entries of these ingest sources; empty
	// means every source.
	Sources  []string
	From, To time.Time
}

// Store records and finds entries.
type Store interface {
	// Put records entries; it must be durable when it returns nil, because
	// ingest answers 2xx right after. An entry with the key of one already
	// stored replaces it.
	Put(ctx context.Context, entries []Entry) error
	// Find returns the entries matching q (at most a few dozen).
	Find(ctx context.Context, q Query) ([]Entry, error)
}

// Verdict is verify's answer to one signed body.
type Verdict struct {
	Reason string // ReasonConfirmed, or the failure reason
}

// ReasonConfirmed is the stored reason of a confirmation.
const ReasonConfirmed = "confirmed"

// Verdicts is verify's state shared by all its instances. Every method is
// one atomic operation on the backend, so it holds across instances.
type Verdicts interface {
	// Verdict returns the verdict stored for the body hash, if any.
	Verdict(ctx context.Context, bodyHash string) (Verdict, bool, error)
	// SaveVerdict stores v for bodyHash unless a verdict is already stored
	// there, and returns the stored one: the first verdict wins, so
	// identical bodies answered in parallel get identical answers.
	SaveVerdict(ctx context.Context, bodyHash string, v Verdict, expires time.Time) (Verdict, error)
	// Claim records that the body bodyHash confirmed entry k. It reports
	// true when the claim is bodyHash's (made now, or earlier by the same
	// body), false when another body holds it. An expired claim is free.
	Claim(ctx context.Context, k Key, bodyHash string, expires time.Time) (bool, error)
}

// VerifyStore is what verify needs of a backend.
type VerifyStore interface {
	Store
	Verdicts
}

// ErrBadQuery is returned for a query with nothing to look up by.
var ErrBadQuery = errors.New("ledger: a query needs an event id, a device id or a user id")

// Matches reports whether e satisfies q; backends whose index narrows the
// search only roughly use it to finish the job, and Memory uses it alone.
func Matches(e Entry, q Query, now time.Time) bool {
	if !e.ExpiresAt.IsZero() && now.After(e.ExpiresAt) {
		return false
	}
	if q.EventID != "" && e.EventID != q.EventID {
		return false
	}
	if q.EventType != "" && e.EventType != q.EventType {
		return false
	}
	if len(q.Sources) > 0 && !slices.Contains(q.Sources, e.Source) {
		return false
	}
	if !q.From.IsZero() && e.Time.Before(q.From) || !q.To.IsZero() && e.Time.After(q.To) {
		return false
	}
	if q.UserID != "" && e.UserID != q.UserID {
		return false
	}
	if q.DeviceID != "" && !slices.Contains(e.DeviceIDs, q.DeviceID) {
		return false
	}
	return true
}
