package ledgertest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/ledger"
)

// RunAttest checks an AttestStore made fresh by newStore; now is the
// store's clock. noIsolation names why the races cannot be checked on this
// backend ("" when they can): those subtests then skip, saying so.
func RunAttest(t *testing.T, now time.Time, newStore func(t *testing.T) ledger.AttestStore, noIsolation string) {
	ctx := context.Background()
	races := func(t *testing.T) {
		if noIsolation != "" {
			t.Skip("SKIP: concurrent takes and advances not checked here: " + noIsolation)
		}
	}
	t.Run("challenges are spent once", func(t *testing.T) {
		s := newStore(t)
		exp := now.Add(5 * time.Minute).Truncate(time.Second)
		if err := s.SpendChallenge(ctx, "Q2hhbGxlbmdl/+=", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.SpendChallenge(ctx, "Q2hhbGxlbmdl/+=", exp); !errors.Is(err, ledger.ErrExists) {
			t.Errorf("second spend: %v, want ErrExists", err)
		}
		if err := s.SpendChallenge(ctx, "another", exp); err != nil {
			t.Errorf("another challenge: %v", err)
		}
	})
	t.Run("one of concurrent spends wins", func(t *testing.T) {
		races(t)
		s := newStore(t)
		var wins, losses atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				err := s.SpendChallenge(ctx, "raced", now.Add(time.Minute))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ledger.ErrExists):
					losses.Add(1)
				default:
					t.Errorf("spend: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || losses.Load() != 7 {
			t.Errorf("%d wins, %d losses; want 1 and 7", wins.Load(), losses.Load())
		}
	})
	t.Run("budgets stop at their limit", func(t *testing.T) {
		s := newStore(t)
		exp := now.Add(48 * time.Hour)
		for i, want := range []int64{4, 8} {
			if got, err := s.TakeBudget(ctx, "play-2026-12-07", 4, 10, exp); err != nil || got != want {
				t.Fatalf("take %d: %d %v, want %d", i, got, err, want)
			}
		}
		if _, err := s.TakeBudget(ctx, "play-2026-12-07", 4, 10, exp); !errors.Is(err, ledger.ErrBudget) {
			t.Errorf("over the limit: %v, want ErrBudget", err)
		}
		if got, err := s.TakeBudget(ctx, "play-2026-12-07", 2, 10, exp); err != nil || got != 10 {
			t.Errorf("up to the limit: %d %v, want 10", got, err)
		}
		if got, err := s.TakeBudget(ctx, "play-2026-12-08", 4, 10, exp); err != nil || got != 4 {
			t.Errorf("another day: %d %v, want 4", got, err)
		}
	})
	t.Run("concurrent budget takes never pass the limit", func(t *testing.T) {
		races(t)
		s := newStore(t)
		var granted atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 3 {
					_, err := s.TakeBudget(ctx, "raced", 1, 10, now.Add(time.Hour))
					switch {
					case err == nil:
						granted.Add(1)
					case !errors.Is(err, ledger.ErrBudget):
						t.Errorf("take: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if granted.Load() != 10 {
			t.Errorf("%d granted of 24 asked; want exactly the limit, 10", granted.Load())
		}
	})
	t.Run("keys and counters", func(t *testing.T) {
		s := newStore(t)
		k := ledger.AttestedKey{KeyID: "6b6579", Source: "ios-app", AppID: "TEAM.com.example", Env: "production",
			PublicKey: []byte{0x30, 0x59, 1, 2, 3}, Created: now.Truncate(time.Second), ExpiresAt: now.Add(time.Hour).Truncate(time.Second)}
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(ctx, k); !errors.Is(err, ledger.ErrExists) {
			t.Errorf("second create: %v, want ErrExists", err)
		}
		got, err := s.GetKey(ctx, k.KeyID)
		if err != nil || got.AppID != k.AppID || string(got.PublicKey) != string(k.PublicKey) || got.Counter != 0 || got.Env != k.Env || got.Source != k.Source {
			t.Fatalf("get: %+v %v", got, err)
		}
		later := now.Add(48 * time.Hour).Truncate(time.Second)
		if err := s.AdvanceCounter(ctx, k.KeyID, 1, later); err != nil {
			t.Fatal(err)
		}
		for _, n := range []uint32{1, 0} {
			if err := s.AdvanceCounter(ctx, k.KeyID, n, later); !errors.Is(err, ledger.ErrCounter) {
				t.Errorf("advance to %d: %v, want ErrCounter", n, err)
			}
		}
		if err := s.AdvanceCounter(ctx, k.KeyID, 7, later); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetKey(ctx, k.KeyID)
		if got.Counter != 7 || !got.ExpiresAt.Equal(later) {
			t.Errorf("after advancing: counter %d, expires %s", got.Counter, got.ExpiresAt)
		}
		if _, err := s.GetKey(ctx, "unknown"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
		if err := s.AdvanceCounter(ctx, "unknown", 1, later); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("advance unknown key: %v", err)
		}
		expired := k
		expired.KeyID, expired.ExpiresAt = "6578706972656400", now.Add(-time.Second)
		if err := s.CreateKey(ctx, expired); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetKey(ctx, expired.KeyID); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("expired key: %v", err)
		}
	})
	t.Run("one of concurrent advances wins", func(t *testing.T) {
		races(t)
		s := newStore(t)
		if err := s.CreateKey(ctx, ledger.AttestedKey{KeyID: "72616365", Source: "ios-app", PublicKey: []byte{1}, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				err := s.AdvanceCounter(ctx, "72616365", 5, now.Add(2*time.Hour))
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, ledger.ErrCounter):
					t.Errorf("advance: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d advances to the same counter won; want 1", wins.Load())
		}
	})
}
