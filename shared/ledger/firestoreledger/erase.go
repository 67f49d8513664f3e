package firestoreledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// Erasure suppressions are "suppress-<key>" documents of the same
// collection, under its TTL policy on expires_at; the key is already a hash.

type suppressionDoc struct {
	ExpiresAt time.Time `firestore:"expires_at"`
}

const suppressPrefix = "suppress-"

func (s *Store) suppressionRef(key string) *firestore.DocumentRef {
	return s.client.Collection(s.collection).Doc(suppressPrefix + key)
}

// inLimit is the most values Firestore accepts in one "in" filter (30
// disjunctions a query).
const inLimit = 30

// Suppressed implements ledger.Suppressions with a query on the document
// id, "in" up to inLimit keys at a time, rather than a get of every key:
// Firestore bills a get a read per document asked for, found or not, but a
// query a read per document it returns and one when it returns none. Almost
// every key looked up holds no suppression, so a look-up costs one read a
// query (one for an event's two to four keys), not one a key.
func (s *Store) Suppressed(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	seen := make(map[string]bool, len(keys))
	var refs []*firestore.DocumentRef
	for _, k := range keys {
		if !seen[k] { // the same value twice in one "in" filter is refused
			seen[k] = true
			refs = append(refs, s.suppressionRef(k))
		}
	}
	now := s.now()
	col := s.client.Collection(s.collection)
	for len(refs) > 0 {
		chunk := refs[:min(inLimit, len(refs))]
		refs = refs[len(chunk):]
		snaps, err := col.Where(firestore.DocumentID, "in", chunk).Documents(ctx).GetAll()
		if err != nil {
			return nil, fmt.Errorf("suppression query: %w", err)
		}
		for _, snap := range snaps {
			key, ok := strings.CutPrefix(snap.Ref.ID, suppressPrefix)
			if !ok || !seen[key] {
				return nil, fmt.Errorf("suppression query returned document %s, not one asked for", snap.Ref.ID)
			}
			var d suppressionDoc
			if err := snap.DataTo(&d); err != nil {
				return nil, fmt.Errorf("suppression document %s: %w", snap.Ref.ID, err)
			}
			if now.Before(d.ExpiresAt) {
				out[key] = true
			}
		}
	}
	return out, nil
}

// eraseChunk bounds the entries deleted in one transaction: each takes up
// to three writes (entry, claim, verdict), within Firestore's 500.
const eraseChunk = 150

// Erase implements ledger.Eraser: the suppressions in one transaction, then
// the person's entries, claims and verdicts in transactions of eraseChunk
// entries, until no entry of theirs is left.
func (s *Store) Erase(ctx context.Context, ids, keys []string, until time.Time) (ledger.Erased, error) {
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snaps, err := tx.GetAll(s.suppressionRefs(keys))
		if err != nil {
			return err
		}
		for i, snap := range snaps {
			if snap.Exists() {
				if exp, err := snap.DataAt("expires_at"); err == nil {
					if t, ok := exp.(time.Time); ok && !until.After(t) {
						continue // a later suppression stands
					}
				}
			}
			if err := tx.Set(s.suppressionRef(keys[i]), suppressionDoc{ExpiresAt: until.UTC()}); err != nil {
				return err
			}
		}
		return nil
	}, firestore.MaxAttempts(5))
	if err != nil {
		return ledger.Erased{}, fmt.Errorf("suppression write: %w", err)
	}
	var total ledger.Erased
	col := s.client.Collection(s.collection)
	for _, id := range ids {
		for _, q := range []firestore.Query{col.Where("user_id", "==", id), col.Where("device_ids", "array-contains", id)} {
			for {
				n, err := s.eraseSome(ctx, q.Limit(eraseChunk))
				if err != nil {
					return total, err
				}
				total = total.Add(n)
				if n.Entries < eraseChunk {
					break
				}
			}
		}
	}
	return total, nil
}

func (s *Store) suppressionRefs(keys []string) []*firestore.DocumentRef {
	refs := make([]*firestore.DocumentRef, len(keys))
	for i, k := range keys {
		refs[i] = s.suppressionRef(k)
	}
	return refs
}

// eraseSome deletes the entries q finds, with their claims and the
// verdicts of the claiming bodies, in one transaction.
func (s *Store) eraseSome(ctx context.Context, q firestore.Query) (ledger.Erased, error) {
	var out ledger.Erased
	col := s.client.Collection(s.collection)
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out = ledger.Erased{}
		var entries, claims []*firestore.DocumentRef
		it := tx.Documents(q)
		for {
			snap, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				return err
			}
			var d doc
			if err := snap.DataTo(&d); err != nil {
				return fmt.Errorf("ledger document %s: %w", snap.Ref.ID, err)
			}
			entries = append(entries, snap.Ref)
			claims = append(claims, col.Doc("claim-"+docID(ledger.Key{Source: d.Source, EventID: d.EventID})))
		}
		if len(entries) == 0 {
			return nil
		}
		claimSnaps, err := tx.GetAll(claims)
		if err != nil {
			return err
		}
		// Every read of a transaction comes before its writes: the claims
		// name the verdicts, so those are read next.
		var held, verdicts []*firestore.DocumentRef
		for i, snap := range claimSnaps {
			if !snap.Exists() {
				continue
			}
			var c claimDoc
			if err := snap.DataTo(&c); err != nil {
				return fmt.Errorf("claim document %s: %w", claims[i].ID, err)
			}
			held = append(held, claims[i])
			if c.BodyHash != "" {
				verdicts = append(verdicts, s.verdictRef(c.BodyHash))
			}
		}
		var verdictSnaps []*firestore.DocumentSnapshot
		if len(verdicts) > 0 {
			if verdictSnaps, err = tx.GetAll(verdicts); err != nil {
				return err
			}
		}
		for _, ref := range entries {
			if err := tx.Delete(ref); err != nil {
				return err
			}
			out.Entries++
		}
		for _, ref := range held {
			if err := tx.Delete(ref); err != nil {
				return err
			}
			out.Claims++
		}
		for _, snap := range verdictSnaps {
			if snap.Exists() {
				if err := tx.Delete(snap.Ref); err != nil {
					return err
				}
				out.Verdicts++
			}
		}
		return nil
	}, firestore.MaxAttempts(5))
	if err != nil {
		return ledger.Erased{}, fmt.Errorf("ledger erase: %w", err)
	}
	return out, nil
}
