// Package firestoreledger stores the ledger in a Firestore collection, with
// a TTL policy on expires_at (declared in Terraform).
//
// One document per event, its id the SHA-256 of the event id (event ids may
// hold '/', which Firestore ids may not). Look-ups by device use an
// array-contains filter on device_ids with a range on t, and by user an
// equality on user_id with a range on t: two composite indexes, declared in
// Terraform next to the TTL policy.
package firestoreledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// doc is an entry as stored.
type doc struct {
	EventID   string    `firestore:"event_id"`
	Source    string    `firestore:"source"`
	EventType string    `firestore:"event_type"`
	Time      time.Time `firestore:"t"`
	UserID    string    `firestore:"user_id,omitempty"`
	DeviceIDs []string  `firestore:"device_ids,omitempty"`
	Revenue   *float64  `firestore:"revenue,omitempty"`
	Currency  string    `firestore:"currency,omitempty"`
	ExpiresAt time.Time `firestore:"expires_at"`
}

// Store is a ledger.Store on Firestore.
type Store struct {
	client     *firestore.Client
	collection string
	now        func() time.Time
}

// New returns a Store on collection.
func New(client *firestore.Client, collection string) *Store {
	return &Store{client: client, collection: collection, now: time.Now}
}

func docID(eventID string) string {
	sum := sha256.Sum256([]byte(eventID))
	return hex.EncodeToString(sum[:])
}

// maxWrites is Firestore's limit of writes in one commit.
const maxWrites = 500

// Put implements ledger.Store: each chunk of entries is one transaction
// (one atomic commit), durable when it returns.
func (s *Store) Put(ctx context.Context, entries []ledger.Entry) error {
	col := s.client.Collection(s.collection)
	for len(entries) > 0 {
		chunk := entries[:min(maxWrites, len(entries))]
		entries = entries[len(chunk):]
		err := s.client.RunTransaction(ctx, func(_ context.Context, tx *firestore.Transaction) error {
			for _, e := range chunk {
				d := doc{EventID: e.EventID, Source: e.Source, EventType: e.EventType, Time: e.Time.UTC(), UserID: e.UserID,
					DeviceIDs: e.DeviceIDs, Revenue: e.Revenue, Currency: e.Currency, ExpiresAt: e.ExpiresAt.UTC()}
				if err := tx.Set(col.Doc(docID(e.EventID)), d); err != nil {
					return err
				}
			}
			return nil
		}, firestore.MaxAttempts(3))
		if err != nil {
			return fmt.Errorf("ledger write of %d entries: %w", len(chunk), err)
		}
	}
	return nil
}

// Find implements ledger.Store.
func (s *Store) Find(ctx context.Context, q ledger.Query) ([]ledger.Entry, error) {
	col := s.client.Collection(s.collection)
	var snaps []*firestore.DocumentSnapshot
	switch {
	case q.EventID != "":
		snap, err := col.Doc(docID(q.EventID)).Get(ctx)
		if status.Code(err) == codes.NotFound {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ledger get %s: %w", q.EventID, err)
		}
		snaps = append(snaps, snap)
	case q.DeviceID != "" || q.UserID != "":
		query := col.Query
		if q.DeviceID != "" {
			query = query.Where("device_ids", "array-contains", q.DeviceID)
		} else {
			query = query.Where("user_id", "==", q.UserID)
		}
		if !q.From.IsZero() {
			query = query.Where("t", ">=", q.From.UTC())
		}
		if !q.To.IsZero() {
			query = query.Where("t", "<=", q.To.UTC())
		}
		var err error
		if snaps, err = query.Limit(50).Documents(ctx).GetAll(); err != nil {
			return nil, fmt.Errorf("ledger query: %w", err)
		}
	default:
		return nil, ledger.ErrBadQuery
	}
	var out []ledger.Entry
	now := s.now()
	for _, snap := range snaps {
		var d doc
		if err := snap.DataTo(&d); err != nil {
			return nil, fmt.Errorf("ledger document %s: %w", snap.Ref.ID, err)
		}
		// TTL deletion runs late (typically within a day), so expiry is
		// checked here too.
		e := ledger.Entry{EventID: d.EventID, Source: d.Source, EventType: d.EventType, Time: d.Time,
			UserID: d.UserID, DeviceIDs: d.DeviceIDs, Revenue: d.Revenue, Currency: d.Currency, ExpiresAt: d.ExpiresAt}
		if ledger.Matches(e, q, now) {
			out = append(out, e)
		}
	}
	return out, nil
}

var errNoClient = errors.New("firestore client is nil")

// Check is a cheap read used at start to fail fast on a wrong database or
// missing permission.
func (s *Store) Check(ctx context.Context) error {
	if s.client == nil {
		return errNoClient
	}
	_, err := s.client.Collection(s.collection).Doc("start-check").Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	return err
}
