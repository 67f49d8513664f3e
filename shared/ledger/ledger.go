// Package ledger keeps a short-lived record of the events ingest accepted
// for the event types DFINERY may ask about, so verify can confirm from our
// own data that an event really happened. Backends: Firestore (GCP),
// DynamoDB (AWS), each with native TTL, and Memory for tests and local runs.
//
// Identifiers are stored as ingest published them (hashed when configured),
// and verify hashes a callback's identifiers the same way before looking up,
// so no raw personal data is stored here either.
package ledger

import (
	"context"
	"errors"
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

// Query finds entries for a callback: by event id when it names one,
// otherwise by a device or user identifier and type within a time window.
type Query struct {
	EventID   string
	DeviceID  string
	UserID    string
	EventType string
	From, To  time.Time
}

// Store records and finds entries.
type Store interface {
	// Put records entries; it must be durable when it returns nil, because
	// ingest answers 2xx right after.
	Put(ctx context.Context, entries []Entry) error
	// Find returns the entries matching q (at most a few dozen).
	Find(ctx context.Context, q Query) ([]Entry, error)
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
	if !q.From.IsZero() && e.Time.Before(q.From) || !q.To.IsZero() && e.Time.After(q.To) {
		return false
	}
	if q.UserID != "" && e.UserID != q.UserID {
		return false
	}
	if q.DeviceID != "" {
		found := false
		for _, d := range e.DeviceIDs {
			found = found || d == q.DeviceID
		}
		if !found {
			return false
		}
	}
	return true
}
