package ledgertest

import (
	"context"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// RunCursors checks a backend's cursors: none at first, a save read back
// (by another handle on the same backend, when newStore shares one), a
// later save replacing it, keys apart, and an expired cursor gone.
func RunCursors(t *testing.T, now time.Time, newStore func(t *testing.T) ledger.Cursors) {
	ctx := context.Background()
	s := newStore(t)
	key := "archive-replay/2026-12-07T14:00:00Z/2026-12-07T16:00:00Z/abc"
	if v, err := s.Cursor(ctx, key); err != nil || v != "" {
		t.Fatalf("fresh cursor %q, %v", v, err)
	}
	if err := s.SaveCursor(ctx, key, `{"file":"a","done":10}`, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCursor(ctx, key, `{"file":"b","done":3}`, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCursor(ctx, key+"-other", "x", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Cursor(ctx, key); err != nil || v != `{"file":"b","done":3}` {
		t.Fatalf("cursor %q, %v", v, err)
	}
	if err := s.SaveCursor(ctx, "expired", "x", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Cursor(ctx, "expired"); err != nil || v != "" {
		t.Fatalf("expired cursor %q, %v", v, err)
	}
}
