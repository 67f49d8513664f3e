// Package firestoreledger stores the ledger in a Firestore collection, with
// a TTL policy on expires_at (declared in Terraform).
//
// One document per entry, its id the SHA-256 of the source and event id
// (event ids may hold '/', which Firestore ids may not). Look-ups by event
// id read the documents of the configured sources, or query event_id when
// no source is configured; by device they use an array-contains filter on
// device_ids with a range on t, and by user an equality on user_id with a
// range on t: two composite indexes, declared in Terraform next to the TTL
// policy.
//
// Verify's shared state lives in the same collection, under the same TTL
// policy: "verdict-<body hash>" documents hold the first verdict given to a
// body, "claim-<entry id>" documents the body that claimed an entry. Both
// are written with Create, which fails when the document exists, so the
// first writer wins on every instance.
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

// verdictDoc and claimDoc are verify's records.
type verdictDoc struct {
	Reason    string    `firestore:"reason"`
	ExpiresAt time.Time `firestore:"expires_at"`
}

type claimDoc struct {
	BodyHash  string    `firestore:"body_hash"`
	ExpiresAt time.Time `firestore:"expires_at"`
}

// Store is a ledger.VerifyStore on Firestore.
type Store struct {
	client     *firestore.Client
	collection string
	now        func() time.Time
}

// New returns a Store on collection.
func New(client *firestore.Client, collection string) *Store {
	return &Store{client: client, collection: collection, now: time.Now}
}

// docID hashes the key; the NUL cannot occur in a source name, so no two
// keys share an id.
func docID(k ledger.Key) string {
	sum := sha256.Sum256([]byte(k.Source + "\x00" + k.EventID))
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
				if err := tx.Set(col.Doc(docID(e.Key())), d); err != nil {
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
	var err error
	switch {
	case q.EventID != "" && len(q.Sources) > 0:
		refs := make([]*firestore.DocumentRef, len(q.Sources))
		for i, src := range q.Sources {
			refs[i] = col.Doc(docID(ledger.Key{Source: src, EventID: q.EventID}))
		}
		if snaps, err = s.client.GetAll(ctx, refs); err != nil {
			return nil, fmt.Errorf("ledger get %s: %w", q.EventID, err)
		}
	case q.EventID != "":
		if snaps, err = col.Where("event_id", "==", q.EventID).Limit(50).Documents(ctx).GetAll(); err != nil {
			return nil, fmt.Errorf("ledger query %s: %w", q.EventID, err)
		}
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
		if snaps, err = query.Limit(50).Documents(ctx).GetAll(); err != nil {
			return nil, fmt.Errorf("ledger query: %w", err)
		}
	default:
		return nil, ledger.ErrBadQuery
	}
	var out []ledger.Entry
	now := s.now()
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
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

func (s *Store) verdictRef(bodyHash string) *firestore.DocumentRef {
	return s.client.Collection(s.collection).Doc("verdict-" + bodyHash)
}

// Verdict implements ledger.Verdicts.
func (s *Store) Verdict(ctx context.Context, bodyHash string) (ledger.Verdict, bool, error) {
	snap, err := s.verdictRef(bodyHash).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return ledger.Verdict{}, false, nil
	}
	if err != nil {
		return ledger.Verdict{}, false, fmt.Errorf("verdict get: %w", err)
	}
	var d verdictDoc
	if err := snap.DataTo(&d); err != nil {
		return ledger.Verdict{}, false, fmt.Errorf("verdict document %s: %w", snap.Ref.ID, err)
	}
	if s.now().After(d.ExpiresAt) {
		return ledger.Verdict{}, false, nil
	}
	return ledger.Verdict{Reason: d.Reason}, true, nil
}

// SaveVerdict implements ledger.Verdicts: the first verdict created wins.
func (s *Store) SaveVerdict(ctx context.Context, bodyHash string, v ledger.Verdict, expires time.Time) (ledger.Verdict, error) {
	winner, err := s.create(ctx, s.verdictRef(bodyHash), verdictDoc{Reason: v.Reason, ExpiresAt: expires.UTC()},
		[]firestore.Update{{Path: "reason", Value: v.Reason}, {Path: "expires_at", Value: expires.UTC()}})
	if err != nil || winner == nil {
		return v, err
	}
	var d verdictDoc
	if err := winner.DataTo(&d); err != nil {
		return ledger.Verdict{}, fmt.Errorf("verdict document %s: %w", winner.Ref.ID, err)
	}
	return ledger.Verdict{Reason: d.Reason}, nil
}

// Claim implements ledger.Verdicts: the first claim created wins, and a
// body that finds its own claim holds it.
func (s *Store) Claim(ctx context.Context, k ledger.Key, bodyHash string, expires time.Time) (bool, error) {
	ref := s.client.Collection(s.collection).Doc("claim-" + docID(k))
	winner, err := s.create(ctx, ref, claimDoc{BodyHash: bodyHash, ExpiresAt: expires.UTC()},
		[]firestore.Update{{Path: "body_hash", Value: bodyHash}, {Path: "expires_at", Value: expires.UTC()}})
	if err != nil || winner == nil {
		return err == nil, err
	}
	var d claimDoc
	if err := winner.DataTo(&d); err != nil {
		return false, fmt.Errorf("claim document %s: %w", winner.Ref.ID, err)
	}
	return d.BodyHash == bodyHash, nil
}

// create writes data at ref unless a live document is there, and returns
// that document when one is (nil when data was written). Create fails on
// an existing document, so of two instances creating at once one wins; an
// expired document that TTL has not deleted yet is taken over with an
// update whose precondition is the update time it was read with.
func (s *Store) create(ctx context.Context, ref *firestore.DocumentRef, data any, takeOver []firestore.Update) (*firestore.DocumentSnapshot, error) {
	for range 4 {
		_, err := ref.Create(ctx, data)
		if err == nil {
			return nil, nil
		}
		if status.Code(err) != codes.AlreadyExists {
			return nil, fmt.Errorf("ledger create %s: %w", ref.ID, err)
		}
		snap, err := ref.Get(ctx)
		if status.Code(err) == codes.NotFound {
			continue // deleted meanwhile: create again
		}
		if err != nil {
			return nil, fmt.Errorf("ledger get %s: %w", ref.ID, err)
		}
		if exp, err := snap.DataAt("expires_at"); err == nil {
			if t, ok := exp.(time.Time); ok && !s.now().Before(t) {
				_, err := ref.Update(ctx, takeOver, firestore.LastUpdateTime(snap.UpdateTime))
				if err == nil {
					return nil, nil
				}
				if c := status.Code(err); c != codes.FailedPrecondition && c != codes.NotFound {
					return nil, fmt.Errorf("ledger update %s: %w", ref.ID, err)
				}
				continue // changed meanwhile: look again
			}
		}
		return snap, nil
	}
	return nil, fmt.Errorf("ledger create %s: %w", ref.ID, errContended)
}

var (
	errNoClient  = errors.New("firestore client is nil")
	errContended = errors.New("changed by other writers on every attempt")
)

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
