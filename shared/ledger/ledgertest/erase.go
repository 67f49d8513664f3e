package ledgertest

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// ErasingStore is a backend with verify's state and erasure.
type ErasingStore interface {
	ledger.VerifyStore
	ledger.Eraser
}

// RunErase checks erasure: a person's entries (found by user id or by
// device id), the claims on them and the claiming verdicts go; everyone
// else's stay; the suppressions are recorded with their expiry, also for an
// id that matches nothing.
func RunErase(t *testing.T, now time.Time, newStore func(t *testing.T) ErasingStore) {
	ctx := context.Background()
	at := now.Add(-time.Minute).Truncate(time.Millisecond)
	mine := ledger.Entry{EventID: "ord-u1", Source: "shop", EventType: "PURCHASE", Time: at,
		UserID: "u-hash", DeviceIDs: []string{"d-hash", "a-hash"}, ExpiresAt: now.Add(time.Hour)}
	byDevice := ledger.Entry{EventID: "ord-d1", Source: "app", EventType: "PURCHASE", Time: at,
		DeviceIDs: []string{"d-hash"}, ExpiresAt: now.Add(time.Hour)}
	theirs := ledger.Entry{EventID: "ord-x1", Source: "shop", EventType: "PURCHASE", Time: at,
		UserID: "other-hash", DeviceIDs: []string{"other-dev"}, ExpiresAt: now.Add(time.Hour)}

	s := newStore(t)
	if err := s.Put(ctx, []ledger.Entry{mine, byDevice, theirs}); err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Hour)
	for _, c := range []struct {
		e    ledger.Entry
		body string
	}{{mine, "body-mine"}, {theirs, "body-theirs"}} {
		if ok, err := s.Claim(ctx, c.e.Key(), c.body, exp); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", c.e.EventID, ok, err)
		}
		if _, err := s.SaveVerdict(ctx, c.body, ledger.Verdict{Reason: ledger.ReasonConfirmed}, exp); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.Erase(ctx, []string{"u-hash", "d-hash"}, []string{"key-u", "key-d"}, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := (ledger.Erased{Entries: 2, Claims: 1, Verdicts: 1}); got != want {
		t.Fatalf("erased %+v, want %+v", got, want)
	}
	for _, q := range []ledger.Query{{EventID: mine.EventID}, {EventID: byDevice.EventID}, {UserID: "u-hash"},
		{DeviceID: "d-hash"}, {DeviceID: "a-hash"}} {
		if found, err := s.Find(ctx, q); err != nil || len(found) != 0 {
			t.Fatalf("after erasure %+v finds %+v (%v)", q, found, err)
		}
	}
	if found, err := s.Find(ctx, ledger.Query{EventID: theirs.EventID}); err != nil || len(found) != 1 {
		t.Fatalf("someone else's entry: %+v %v", found, err)
	}
	if _, ok, err := s.Verdict(ctx, "body-mine"); err != nil || ok {
		t.Fatalf("the erased person's verdict is still there (%v)", err)
	}
	if _, ok, err := s.Verdict(ctx, "body-theirs"); err != nil || !ok {
		t.Fatalf("someone else's verdict is gone (%v)", err)
	}
	// The entry's claim is free again: a new body may claim it (were the
	// entry ever recorded anew).
	if ok, err := s.Claim(ctx, mine.Key(), "body-new", exp); err != nil || !ok {
		t.Fatalf("claim after erasure: %v %v", ok, err)
	}

	sup, err := s.Suppressed(ctx, []string{"key-u", "key-d", "key-none"})
	if err != nil {
		t.Fatal(err)
	}
	if !sup["key-u"] || !sup["key-d"] || sup["key-none"] {
		t.Fatalf("suppressed %v", sup)
	}

	t.Run("an id matching nothing still records its suppression", func(t *testing.T) {
		got, err := s.Erase(ctx, []string{"nobody"}, []string{"key-nobody"}, now.Add(time.Hour))
		if err != nil || got != (ledger.Erased{}) {
			t.Fatalf("%+v %v", got, err)
		}
		if sup, err := s.Suppressed(ctx, []string{"key-nobody"}); err != nil || !sup["key-nobody"] {
			t.Fatalf("%v %v", sup, err)
		}
	})
	t.Run("an expired suppression is not live; a new erasure renews it", func(t *testing.T) {
		if _, err := s.Erase(ctx, nil, []string{"key-old"}, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if sup, err := s.Suppressed(ctx, []string{"key-old"}); err != nil || sup["key-old"] {
			t.Fatalf("%v %v", sup, err)
		}
		if _, err := s.Erase(ctx, nil, []string{"key-old"}, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if sup, err := s.Suppressed(ctx, []string{"key-old"}); err != nil || !sup["key-old"] {
			t.Fatalf("%v %v", sup, err)
		}
	})
	t.Run("a look-up answers exactly its keys: many, repeated, none", func(t *testing.T) {
		// 130 keys, more than one Firestore "in" filter (30) or one
		// DynamoDB BatchGetItem (100) takes; every seventh suppressed and
		// one more whose suppression has expired.
		var keys []string
		want := map[string]bool{}
		var erase []string
		for i := range 130 {
			k := fmt.Sprintf("key-many-%03d", i)
			keys = append(keys, k)
			if i%7 == 3 {
				erase = append(erase, k)
				want[k] = true
			}
		}
		if _, err := s.Erase(ctx, nil, erase, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Erase(ctx, nil, []string{"key-many-128"}, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Each key at least twice, the second time in reverse order.
		ask := append(append([]string{}, keys...), "key-many-010", "key-many-066", "key-many-010")
		for i := len(keys) - 1; i >= 0; i-- {
			ask = append(ask, keys[i])
		}
		got, err := s.Suppressed(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("suppressed %v, want %v", got, want)
		}
		for _, none := range [][]string{nil, {}} {
			if got, err := s.Suppressed(ctx, none); err != nil || len(got) != 0 {
				t.Fatalf("no keys: %v %v", got, err)
			}
		}
		if got, err := s.Suppressed(ctx, []string{"key-many-003", "key-many-003"}); err != nil || !maps.Equal(got, map[string]bool{"key-many-003": true}) {
			t.Fatalf("one key twice: %v %v", got, err)
		}
		// A suppressed key answers for itself only, not for a key it is a
		// prefix of, nor for a prefix of it.
		if got, err := s.Suppressed(ctx, []string{"key-many-00", "key-many-0030"}); err != nil || len(got) != 0 {
			t.Fatalf("prefixes of a suppressed key: %v %v", got, err)
		}
	})
}
