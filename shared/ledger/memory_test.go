package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

func TestMemory(t *testing.T) {
	now := time.Now()
	ledgertest.Run(t, now, func(*testing.T) ledger.Store { return ledger.NewMemory(func() time.Time { return now }) })
	ledgertest.RunErase(t, now, func(*testing.T) ledgertest.ErasingStore { return ledger.NewMemory(func() time.Time { return now }) })
	ledgertest.RunCursors(t, now, func(*testing.T) ledger.Cursors { return ledger.NewMemory(func() time.Time { return now }) })
}

// The sweep drops expired entries from storage, not only from answers, and
// keeps the live ones findable by every index.
func TestMemorySweepKeepsLiveEntries(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	m := ledger.NewMemory(func() time.Time { return now })
	ctx := context.Background()
	if err := m.Put(ctx, []ledger.Entry{
		{EventID: "short", EventType: "PURCHASE", UserID: "u1", DeviceIDs: []string{"d1", "d1"}, ExpiresAt: now.Add(time.Second)},
		{EventID: "long", EventType: "PURCHASE", UserID: "u1", DeviceIDs: []string{"d1"}, ExpiresAt: now.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Find(ctx, ledger.Query{DeviceID: "d1"})
	if len(got) != 2 {
		t.Fatalf("before expiry, by device: %d entries, want 2 (a repeated device id must not double an entry)", len(got))
	}
	now = now.Add(2 * time.Minute)
	if err := m.Put(ctx, []ledger.Entry{{EventID: "later", UserID: "u2", ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
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

// The count cap: however many entries go in, storage stays under twice the
// cap, the newest stay findable and the oldest go.
func TestMemoryCountCap(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	m := ledger.NewMemory(func() time.Time { return now }).WithMaxEntries(10)
	ctx := context.Background()
	for i := range 95 {
		// The same key again (as a resent event) and a new one.
		if err := m.Put(ctx, []ledger.Entry{{EventID: "again", UserID: "u", ExpiresAt: now.Add(time.Hour)},
			{EventID: fmt.Sprintf("e%d", i), UserID: "u", ExpiresAt: now.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		if n := m.Len(); n >= 20 {
			t.Fatalf("after %d puts: %d entries stored, cap 10", i+1, n)
		}
	}
	for _, id := range []string{"e94", "e90", "again"} {
		if got, _ := m.Find(ctx, ledger.Query{EventID: id}); len(got) != 1 {
			t.Errorf("%s: %d entries, want 1 (recent entries stay)", id, len(got))
		}
	}
	if got, _ := m.Find(ctx, ledger.Query{EventID: "e0"}); len(got) != 0 {
		t.Errorf("e0 still found: the oldest should have gone")
	}
	if got, _ := m.Find(ctx, ledger.Query{UserID: "u"}); len(got) > 19 || len(got) < 10 {
		t.Errorf("by user: %d entries, want 10 to 19", len(got))
	}
}

func TestMemoryVerdicts(t *testing.T) {
	now := time.Now()
	ledgertest.RunVerdicts(t, now, func(*testing.T) ledger.VerifyStore { return ledger.NewMemory(func() time.Time { return now }) })
}
