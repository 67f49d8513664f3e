package firestoreledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// The attestation exchange's state lives in two collections beside the
// ledger's, "<collection>-challenges" and "<collection>-keys", each with a
// TTL policy on expires_at (declared in Terraform). Document ids are the
// SHA-256 of the challenge or key id (a challenge may hold '/').
// Spending a challenge is Create (fails if the document exists), taking
// from a budget and advancing a counter are transactions, creating a key is
// a transaction too: atomic across instances. A budget's document sits in
// the challenges collection under "budget-<name>" (no SHA-256 hex id starts
// so), where the same TTL policy deletes it.

type spentDoc struct {
	ExpiresAt time.Time `firestore:"expires_at"`
}

type budgetDoc struct {
	Used      int64     `firestore:"used"`
	ExpiresAt time.Time `firestore:"expires_at"`
}

type keyDoc struct {
	KeyID     string    `firestore:"key_id"`
	Source    string    `firestore:"source"`
	AppID     string    `firestore:"app_id"`
	Env       string    `firestore:"env"`
	PublicKey []byte    `firestore:"public_key"`
	Counter   int64     `firestore:"counter"`
	Created   time.Time `firestore:"created"`
	ExpiresAt time.Time `firestore:"expires_at"`
}

// ChallengesCollection and KeysCollection name the attestation collections
// for a ledger collection (Terraform declares their TTL policies).
func ChallengesCollection(collection string) string { return collection + "-challenges" }

// KeysCollection: see ChallengesCollection.
func KeysCollection(collection string) string { return collection + "-keys" }

func hashID(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func (s *Store) challengeRef(v string) *firestore.DocumentRef {
	return s.client.Collection(ChallengesCollection(s.collection)).Doc(hashID(v))
}

func (s *Store) keyRef(id string) *firestore.DocumentRef {
	return s.client.Collection(KeysCollection(s.collection)).Doc(hashID(id))
}

// SpendChallenge implements ledger.AttestStore.
func (s *Store) SpendChallenge(ctx context.Context, value string, expires time.Time) error {
	_, err := s.challengeRef(value).Create(ctx, spentDoc{ExpiresAt: expires.UTC()})
	switch {
	case status.Code(err) == codes.AlreadyExists:
		return ledger.ErrExists
	case err != nil:
		return fmt.Errorf("spend challenge: %w", err)
	}
	return nil
}

// TakeBudget implements ledger.AttestStore.
func (s *Store) TakeBudget(ctx context.Context, name string, n, limit int64, expires time.Time) (int64, error) {
	ref := s.client.Collection(ChallengesCollection(s.collection)).Doc("budget-" + name)
	var total int64
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var d budgetDoc
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if err := snap.DataTo(&d); err != nil {
				return err
			}
			if !s.now().Before(d.ExpiresAt) {
				d = budgetDoc{} // expired, waiting for TTL deletion
			}
		}
		if d.Used+n > limit {
			return ledger.ErrBudget
		}
		total = d.Used + n
		return tx.Set(ref, budgetDoc{Used: total, ExpiresAt: expires.UTC()})
	}, firestore.MaxAttempts(10))
	switch {
	case err == ledger.ErrBudget:
		return 0, err
	case err != nil:
		return 0, fmt.Errorf("take budget: %w", err)
	}
	return total, nil
}

// CreateKey implements ledger.AttestStore; an expired key still waiting for
// TTL deletion may be replaced.
func (s *Store) CreateKey(ctx context.Context, k ledger.AttestedKey) error {
	ref := s.keyRef(k.KeyID)
	d := keyDoc{KeyID: k.KeyID, Source: k.Source, AppID: k.AppID, Env: k.Env, PublicKey: k.PublicKey,
		Counter: int64(k.Counter), Created: k.Created.UTC(), ExpiresAt: k.ExpiresAt.UTC()}
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			var old keyDoc
			if err := snap.DataTo(&old); err != nil {
				return err
			}
			if s.now().Before(old.ExpiresAt) {
				return ledger.ErrExists
			}
		}
		return tx.Set(ref, d)
	}, firestore.MaxAttempts(5))
	if err == ledger.ErrExists {
		return err
	}
	if err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}

// GetKey implements ledger.AttestStore.
func (s *Store) GetKey(ctx context.Context, keyID string) (ledger.AttestedKey, error) {
	snap, err := s.keyRef(keyID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return ledger.AttestedKey{}, ledger.ErrNotFound
	}
	if err != nil {
		return ledger.AttestedKey{}, fmt.Errorf("get key: %w", err)
	}
	return s.keyFrom(snap)
}

func (s *Store) keyFrom(snap *firestore.DocumentSnapshot) (ledger.AttestedKey, error) {
	var d keyDoc
	if err := snap.DataTo(&d); err != nil {
		return ledger.AttestedKey{}, fmt.Errorf("key document: %w", err)
	}
	if !s.now().Before(d.ExpiresAt) {
		return ledger.AttestedKey{}, ledger.ErrNotFound
	}
	return ledger.AttestedKey{KeyID: d.KeyID, Source: d.Source, AppID: d.AppID, Env: d.Env, PublicKey: d.PublicKey,
		Counter: uint32(d.Counter), Created: d.Created, ExpiresAt: d.ExpiresAt}, nil
}

// AdvanceCounter implements ledger.AttestStore.
func (s *Store) AdvanceCounter(ctx context.Context, keyID string, n uint32, expires time.Time) error {
	ref := s.keyRef(keyID)
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return ledger.ErrNotFound
		}
		if err != nil {
			return err
		}
		k, err := s.keyFrom(snap)
		if err != nil {
			return err
		}
		if k.Counter >= n {
			return ledger.ErrCounter
		}
		return tx.Update(ref, []firestore.Update{{Path: "counter", Value: int64(n)}, {Path: "expires_at", Value: expires.UTC()}})
	}, firestore.MaxAttempts(10))
	switch {
	case err == ledger.ErrNotFound || err == ledger.ErrCounter:
		return err
	case err != nil:
		return fmt.Errorf("advance counter: %w", err)
	}
	return nil
}
