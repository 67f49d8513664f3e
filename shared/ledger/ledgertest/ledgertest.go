// Package ledgertest is the behaviour every ledger.Store must show; each
// backend's tests run it against the real store (emulator or memory).
package ledgertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// Run checks a store made fresh by newStore. now is the test's clock as
// the store sees it.
func Run(t *testing.T, now time.Time, newStore func(t *testing.T) ledger.Store) {
	ctx := context.Background()
	amount := 24000.0
	purchase := ledger.Entry{EventID: "ord/77 ü", Source: "shop", EventType: "PURCHASE", Time: now.Add(-2 * time.Minute).Truncate(time.Millisecond),
		UserID: "user-hash-1", DeviceIDs: []string{"dev-hash-1", "adid-hash-1"}, Revenue: &amount, Currency: "KRW", ExpiresAt: now.Add(time.Hour)}
	other := ledger.Entry{EventID: "ord-78", Source: "shop", EventType: "PURCHASE", Time: now.Add(-90 * time.Minute).Truncate(time.Millisecond),
		DeviceIDs: []string{"dev-hash-1"}, ExpiresAt: now.Add(time.Hour)}
	expired := ledger.Entry{EventID: "ord-old", Source: "shop", EventType: "PURCHASE", Time: now.Add(-3 * time.Minute),
		DeviceIDs: []string{"dev-hash-9"}, ExpiresAt: now.Add(-time.Second)}

	s := newStore(t)
	if err := s.Put(ctx, []ledger.Entry{purchase, other, expired}); err != nil {
		t.Fatalf("put: %v", err)
	}
	window := func(q ledger.Query) ledger.Query {
		q.From, q.To = now.Add(-10*time.Minute), now
		return q
	}
	cases := []struct {
		name string
		q    ledger.Query
		want []string
	}{
		{"by event id", ledger.Query{EventID: purchase.EventID}, []string{purchase.EventID}},
		{"by event id and type", ledger.Query{EventID: purchase.EventID, EventType: "PURCHASE"}, []string{purchase.EventID}},
		{"by event id, wrong type", ledger.Query{EventID: purchase.EventID, EventType: "LAND"}, nil},
		{"unknown event id", ledger.Query{EventID: "ord-404"}, nil},
		{"by device in window", window(ledger.Query{DeviceID: "dev-hash-1", EventType: "PURCHASE"}), []string{purchase.EventID}},
		{"by second device id", window(ledger.Query{DeviceID: "adid-hash-1"}), []string{purchase.EventID}},
		{"by user in window", window(ledger.Query{UserID: "user-hash-1"}), []string{purchase.EventID}},
		{"by device, wider window", ledger.Query{DeviceID: "dev-hash-1", From: now.Add(-2 * time.Hour), To: now}, []string{other.EventID, purchase.EventID}},
		{"expired entry hidden", ledger.Query{EventID: expired.EventID}, nil},
		{"expired entry hidden by device", window(ledger.Query{DeviceID: "dev-hash-9"}), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Find(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if ids := idsOf(got); fmt.Sprint(ids) != fmt.Sprint(sorted(c.want)) {
				t.Fatalf("found %v, want %v", ids, c.want)
			}
		})
	}
	t.Run("fields survive the round trip", func(t *testing.T) {
		got, err := s.Find(ctx, ledger.Query{EventID: purchase.EventID})
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		e := got[0]
		if !e.Time.Equal(purchase.Time) || e.UserID != purchase.UserID || e.Revenue == nil || *e.Revenue != amount ||
			e.Currency != "KRW" || e.Source != "shop" || len(e.DeviceIDs) != 2 {
			t.Fatalf("stored %+v, got %+v", purchase, e)
		}
	})
	t.Run("same event id from two sources: two entries", func(t *testing.T) {
		mine := ledger.Entry{EventID: "ord-shared", Source: "shop", EventType: "PURCHASE", Time: now, UserID: "u-shop", ExpiresAt: now.Add(time.Hour)}
		theirs := mine
		theirs.Source, theirs.UserID = "other-app", "u-other"
		if err := s.Put(ctx, []ledger.Entry{mine, theirs}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			sources []string
			want    string
		}{{nil, "[u-other u-shop]"}, {[]string{"shop"}, "[u-shop]"}, {[]string{"other-app"}, "[u-other]"},
			{[]string{"shop", "other-app"}, "[u-other u-shop]"}, {[]string{"nobody"}, "[]"}} {
			got, err := s.Find(ctx, ledger.Query{EventID: "ord-shared", Sources: c.sources})
			if err != nil {
				t.Fatal(err)
			}
			var users []string
			for _, e := range got {
				users = append(users, e.UserID)
			}
			if fmt.Sprint(sorted(users)) != c.want {
				t.Errorf("sources %v: users %v, want %s", c.sources, sorted(users), c.want)
			}
		}
		byUser, err := s.Find(ctx, ledger.Query{UserID: "u-shop", Sources: []string{"other-app"}})
		if err != nil || len(byUser) != 0 {
			t.Errorf("by user outside the sources: %v %v", byUser, err)
		}
	})
	t.Run("same source and id again replaces", func(t *testing.T) {
		first := ledger.Entry{EventID: "ord-again", Source: "shop", EventType: "PURCHASE", Time: now, Currency: "KRW", ExpiresAt: now.Add(time.Hour)}
		second := first
		second.Currency = "USD"
		if err := s.Put(ctx, []ledger.Entry{first}); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, []ledger.Entry{second}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Find(ctx, ledger.Query{EventID: "ord-again"})
		if err != nil || len(got) != 1 || got[0].Currency != "USD" {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("empty query refused", func(t *testing.T) {
		if _, err := s.Find(ctx, ledger.Query{EventType: "PURCHASE"}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("many entries in one put", func(t *testing.T) {
		var batch []ledger.Entry
		for i := range 60 {
			batch = append(batch, ledger.Entry{EventID: fmt.Sprintf("bulk-%02d", i), EventType: "PURCHASE", Time: now,
				DeviceIDs: []string{fmt.Sprintf("bulk-dev-%02d", i)}, ExpiresAt: now.Add(time.Hour)})
		}
		if err := s.Put(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for _, e := range batch {
			if got, err := s.Find(ctx, ledger.Query{EventID: e.EventID}); err != nil || len(got) != 1 {
				t.Fatalf("%s: %v %v", e.EventID, got, err)
			}
		}
	})
}

// RunVerdicts checks verify's shared state on a store made fresh by
// newStore, including its atomicity under parallel writers.
func RunVerdicts(t *testing.T, now time.Time, newStore func(t *testing.T) ledger.VerifyStore) {
	ctx := context.Background()
	later := now.Add(time.Hour)
	t.Run("first verdict wins", func(t *testing.T) {
		s := newStore(t)
		if _, ok, err := s.Verdict(ctx, "hash-1"); ok || err != nil {
			t.Fatalf("fresh store has a verdict: %v %v", ok, err)
		}
		got, err := s.SaveVerdict(ctx, "hash-1", ledger.Verdict{Reason: "not_found"}, later)
		if err != nil || got.Reason != "not_found" {
			t.Fatalf("%+v %v", got, err)
		}
		got, err = s.SaveVerdict(ctx, "hash-1", ledger.Verdict{Reason: ledger.ReasonConfirmed}, later)
		if err != nil || got.Reason != "not_found" {
			t.Fatalf("second save: %+v %v, want the first verdict", got, err)
		}
		if v, ok, err := s.Verdict(ctx, "hash-1"); !ok || err != nil || v.Reason != "not_found" {
			t.Fatalf("read back: %+v %v %v", v, ok, err)
		}
	})
	t.Run("expired verdict is gone and replaceable", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.SaveVerdict(ctx, "hash-old", ledger.Verdict{Reason: "stale"}, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Verdict(ctx, "hash-old"); ok || err != nil {
			t.Fatalf("expired verdict returned: %v %v", ok, err)
		}
		got, err := s.SaveVerdict(ctx, "hash-old", ledger.Verdict{Reason: ledger.ReasonConfirmed}, later)
		if err != nil || got.Reason != ledger.ReasonConfirmed {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("claims", func(t *testing.T) {
		s := newStore(t)
		k := ledger.Key{Source: "shop", EventID: "ord/1 #x"}
		other := ledger.Key{Source: "shop#x", EventID: "ord/1"} // must not collide with k
		for _, c := range []struct {
			k    ledger.Key
			hash string
			want bool
		}{{k, "body-a", true}, {k, "body-a", true}, {k, "body-b", false}, {other, "body-b", true},
			{ledger.Key{Source: "app", EventID: k.EventID}, "body-c", true}} {
			got, err := s.Claim(ctx, c.k, c.hash, later)
			if err != nil || got != c.want {
				t.Fatalf("claim %+v by %s: %v %v, want %v", c.k, c.hash, got, err, c.want)
			}
		}
		expired := ledger.Key{Source: "shop", EventID: "ord-expired"}
		if ok, err := s.Claim(ctx, expired, "body-a", now.Add(-time.Second)); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, err := s.Claim(ctx, expired, "body-b", later); !ok || err != nil {
			t.Fatalf("an expired claim is free: %v %v", ok, err)
		}
	})
	t.Run("parallel distinct claims: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		wins, err := parallel(n, func(i int) (bool, error) {
			return s.Claim(ctx, ledger.Key{Source: "shop", EventID: "ord-race"}, fmt.Sprintf("body-%02d", i), later)
		})
		if err != nil {
			t.Fatal(err)
		}
		if wins != 1 {
			t.Fatalf("%d of %d distinct claims won, want 1", wins, n)
		}
	})
	t.Run("parallel identical claims: all hold", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		wins, err := parallel(n, func(int) (bool, error) {
			return s.Claim(ctx, ledger.Key{Source: "shop", EventID: "ord-same"}, "body-same", later)
		})
		if err != nil {
			t.Fatal(err)
		}
		if wins != n {
			t.Fatalf("%d of %d identical claims held, want all", wins, n)
		}
	})
	t.Run("parallel verdicts: one stored, all see it", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		var mu sync.Mutex
		seen := map[string]int{}
		if _, err := parallel(n, func(i int) (bool, error) {
			v, err := s.SaveVerdict(ctx, "hash-race", ledger.Verdict{Reason: fmt.Sprintf("reason-%02d", i)}, later)
			mu.Lock()
			seen[v.Reason]++
			mu.Unlock()
			return true, err
		}); err != nil {
			t.Fatalf("parallel saves: %v", err)
		}
		if len(seen) != 1 {
			t.Fatalf("parallel saves answered %v, want one verdict for all", seen)
		}
	})
}

// parallel runs f n times at once and counts the true answers; it returns
// the first error too.
func parallel(n int, f func(i int) (bool, error)) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := 0
	var firstErr error
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := f(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if ok && err == nil {
				count++
			}
		}()
	}
	close(start)
	wg.Wait()
	return count, firstErr
}

func idsOf(es []ledger.Entry) []string {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.EventID)
	}
	return sorted(ids)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
