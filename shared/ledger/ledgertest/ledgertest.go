// Package ledgertest is the behaviour every ledger.Store must show; each
// backend's tests run it against the real store (emulator or memory).
package ledgertest

import (
	"context"
	"fmt"
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
