package suppress

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
)

// countingStore counts the backend reads.
type countingStore struct {
	*ledger.Memory
	mu    sync.Mutex
	reads int
}

func (c *countingStore) Suppressed(ctx context.Context, keys []string) (map[string]bool, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Memory.Suppressed(ctx, keys)
}

func TestChecker(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := &countingStore{Memory: ledger.NewMemory(clock)}
	c := NewChecker(store, 30*time.Second, clock)
	ctx := context.Background()
	u := &event.Event{UserID: "u-hash"}
	d := &event.Event{UserID: "other", Device: &event.Device{AdvertisingID: "adid-hash"}}

	got, err := c.Erased(ctx, []*event.Event{u, d})
	if err != nil || got[0] || got[1] || store.reads != 1 {
		t.Fatalf("%v %v, %d reads", got, err, store.reads)
	}
	// Another instance erases both: this one still answers from its miss
	// cache within the setting, then reads the backend again.
	if _, err := store.Erase(ctx, nil, []string{Key("u-hash"), Key("adid-hash")}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Erased(ctx, []*event.Event{u, d}); got[0] || got[1] || store.reads != 1 {
		t.Fatalf("within the miss cache: %v, %d reads", got, store.reads)
	}
	now = now.Add(31 * time.Second)
	if got, _ := c.Erased(ctx, []*event.Event{u, d}); !got[0] || !got[1] || store.reads != 2 {
		t.Fatalf("after the miss cache: %v, %d reads", got, store.reads)
	}
	// Found suppressions are answered locally.
	if gone, _ := c.ErasedOne(ctx, u); !gone || store.reads != 2 {
		t.Fatalf("hit cache: %v, %d reads", gone, store.reads)
	}
}

func TestCheckerWithoutMissCacheReadsEveryTime(t *testing.T) {
	store := &countingStore{Memory: ledger.NewMemory(nil)}
	c := NewChecker(store, 0, nil)
	e := &event.Event{UserID: "u"}
	for range 3 {
		if _, err := c.ErasedOne(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 3 {
		t.Fatalf("%d reads", store.reads)
	}
	store.FailWith(errors.New("down"))
	if _, err := c.ErasedOne(context.Background(), e); err == nil {
		t.Fatal("a failing backend answered")
	}
	// An event with no identifier erasure acts on costs no read.
	store.FailWith(nil)
	if gone, err := c.ErasedOne(context.Background(), &event.Event{CustomID: "c"}); gone || err != nil || store.reads != 4 {
		t.Fatalf("%v %v %d", gone, err, store.reads)
	}
}

func TestRememberSkipsTheMissCache(t *testing.T) {
	store := ledger.NewMemory(nil)
	c := NewChecker(store, time.Minute, nil)
	e := &event.Event{Device: &event.Device{PersistentID: "p"}}
	if gone, _ := c.ErasedOne(context.Background(), e); gone {
		t.Fatal("erased before")
	}
	c.Remember([]string{Key("p")})
	if gone, _ := c.ErasedOne(context.Background(), e); !gone {
		t.Fatal("the erasing instance still lets the event through")
	}
}

func TestKeyIsNotTheID(t *testing.T) {
	if k := Key("abc"); k == "abc" || len(k) != 64 || Key("abc") != k || Key("abd") == k {
		t.Fatal(k)
	}
}
