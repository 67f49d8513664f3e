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
// Taking a challenge and advancing a counter are transactions, creating a
// key is Create (fails if the document exists): atomic across instances.

type challengeDoc struct {
	Value     string    `firestore:"value"`
	Source    string    `firestore:"source"`
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

// PutChallenge implements ledger.AttestStore.
func (s *Store) PutChallenge(ctx context.Context, c ledger.Challenge) error {
	if _, err := s.challengeRef(c.Value).Set(ctx, challengeDoc{Value: c.Value, Source: c.Source, ExpiresAt: c.ExpiresAt.UTC()}); err != nil {
		return fmt.Errorf("store challenge: %w", err)
	}
	return nil
}

// TakeChallenge implements ledger.AttestStore.
func (s *Store) TakeChallenge(ctx context.Context, value string) (ledger.Challenge, error) {
	ref := s.challengeRef(value)
	var out ledger.Challenge
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return ledger.ErrNotFound
		}
		if err != nil {
			return err
		}
		var d challengeDoc
		if err := snap.DataTo(&d); err != nil {
			return err
		}
		if err := tx.Delete(ref); err != nil {
			return err
		}
		// TTL deletion runs late: an expired challenge is deleted and refused.
		if !s.now().Before(d.ExpiresAt) {
			out = ledger.Challenge{}
			return nil
		}
		out = ledger.Challenge{Value: d.Value, Source: d.Source, ExpiresAt: d.ExpiresAt}
		return nil
	}, firestore.MaxAttempts(5))
	if err != nil {
		if err == ledger.ErrNotFound {
			return ledger.Challenge{}, err
		}
		return ledger.Challenge{}, fmt.Errorf("take challenge: %w", err)
	}
	if out.Value == "" {
		return ledger.Challenge{}, ledger.ErrNotFound
	}
	return out, nil
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
