package ledger_test

import (
	"context"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

func TestMemory(t *testing.T) {
	now := time.Now()
	ledgertest.Run(t, now, func(*testing.T) ledger.Store { return ledger.NewMemory(func() time.Time { return now }) })
}

// The sweep drops expired entries from storage, not only from answers, and
// keeps the live ones findable by every index.
func TestMemorySweepKeepsLiveEntries(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	m := ledger.NewMemory(func() time.Time { return now })
	ctx := context.Background()
	m.Put(ctx, []ledger.Entry{
		{EventID: "short", EventType: "PURCHASE", UserID: "u1", DeviceIDs: []string{"d1", "d1"}, ExpiresAt: now.Add(time.Second)},
		{EventID: "long", EventType: "PURCHASE", UserID: "u1", DeviceIDs: []string{"d1"}, ExpiresAt: now.Add(time.Hour)},
	})
	got, _ := m.Find(ctx, ledger.Query{DeviceID: "d1"})
	if len(got) != 2 {
		t.Fatalf("before expiry, by device: %d entries, want 2 (a repeated device id must not double an entry)", len(got))
	}
	now = now.Add(2 * time.Minute)
	m.Put(ctx, []ledger.Entry{{EventID: "later", UserID: "u2", ExpiresAt: now.Add(time.Hour)}})
	for _, q := range []ledger.Query{{EventID: "long"}, {DeviceID: "d1"}, {UserID: "u1"}, {EventID: "later"}} {
		got, _ := m.Find(ctx, q)
		if len(got) != 1 {
			t.Errorf("after the sweep, %+v: %d entries, want 1", q, len(got))
		}
	}
	if got, _ := m.Find(ctx, ledger.Query{EventID: "short"}); len(got) != 0 {
		t.Errorf("expired entry still found: %+v", got)
	}
}

func TestMemoryVerdicts(t *testing.T) {
	now := time.Now()
	ledgertest.RunVerdicts(t, now, func(*testing.T) ledger.VerifyStore { return ledger.NewMemory(func() time.Time { return now }) })
}
