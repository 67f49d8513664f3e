package ttlset

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// A generation at its byte budget rotates early, on the next call: the
// newest generation's keys stay, the oldest go, and the set holds at most
// two generations' worth.
func TestBudgetRotatesEarly(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	key := func(i int) string { return fmt.Sprintf("k-%04d", i) } // 6 bytes
	perGen := 10
	s := New(time.Hour, perGen*(6+EntryOverhead), c.now)
	for i := range 3 * perGen {
		if !s.Add(key(i)) {
			t.Fatalf("%s was new", key(i))
		}
	}
	if s.Contains(key(0)) || s.Contains(key(perGen-1)) {
		t.Error("the oldest generation outlived two budgets")
	}
	for i := 2 * perGen; i < 3*perGen; i++ {
		if !s.Contains(key(i)) {
			t.Errorf("%s of the newest generation forgotten", key(i))
		}
	}
	if n := len(s.g.cur) + len(s.g.prev); n > 2*perGen {
		t.Errorf("holds %d keys, budget %d a generation", n, perGen)
	}
}

// A removed key gives its bytes back to the generation's budget.
func TestRemoveReturnsItsBytes(t *testing.T) {
	s := New(time.Hour, 1<<20, nil)
	s.Add("abc")
	s.Add("de")
	s.Remove("abc")
	s.Remove("never-added")
	if want := 2 + EntryOverhead; s.g.curBytes != want {
		t.Errorf("curBytes %d, want %d", s.g.curBytes, want)
	}
}

// The window still rules when the budget is not reached.
func TestWindowRotates(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	s := New(time.Minute, 1<<20, c.now)
	s.Add("a")
	c.t = c.t.Add(90 * time.Second)
	if !s.Contains("a") {
		t.Error("forgotten before twice the window")
	}
	c.t = c.t.Add(2 * time.Minute)
	if s.Contains("a") {
		t.Error("remembered past twice the window")
	}
}

// Whatever the gaps between calls (an idle instance rotates only when it
// is next called), a key is remembered for at least the window and never
// for twice it: a generation rotated late held keys older than the window.
func TestRememberedAtLeastTheWindowNeverTwice(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	const window = 10 * time.Minute
	s := New(window, 1<<30, c.now)
	added := map[string]time.Time{}
	// Steps of 0 to 19 minutes, in a fixed pseudo-random order.
	steps := []int{3, 0, 19, 7, 1, 12, 9, 9, 2, 18, 4, 11, 0, 6, 15, 5, 10, 1, 8, 13, 17, 3, 14, 2, 16, 19, 7, 0, 5, 11}
	for i, m := range steps {
		c.t = c.t.Add(time.Duration(m)*time.Minute + 37*time.Second)
		for k, at := range added {
			age := c.t.Sub(at)
			got := s.Contains(k)
			if age < window && !got {
				t.Fatalf("step %d: %s forgotten at %v, within the window", i, k, age)
			}
			if age >= 2*window && got {
				t.Fatalf("step %d: %s remembered at %v, twice the window or more", i, k, age)
			}
		}
		k := fmt.Sprintf("k-%02d", i)
		s.Add(k)
		added[k] = c.t
	}
	// The idle case the issue saw: added, looked up just before twice the
	// window (which rotates), then just after it.
	s = New(window, 1<<30, c.now)
	start := c.t
	s.Add("a")
	c.t = start.Add(2*window - time.Second)
	if !s.Contains("a") {
		t.Fatal("forgotten before twice the window")
	}
	c.t = start.Add(2*window + time.Second)
	if s.Contains("a") {
		t.Fatal("remembered past twice the window after an idle rotation")
	}
}

// EntryOverhead keeps the estimate honest: the heap a full set holds is
// within a quarter of what the budget counts for it.
func TestEntryOverheadEstimatesTheHeap(t *testing.T) {
	const n = 200_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := New(time.Hour, 1<<40, nil)
	counted := 0
	for i := range n {
		k := fmt.Sprintf("source\x00evt-%08d-%020d", i, i) // 40 bytes
		s.Add(k)
		counted += len(k) + EntryOverhead
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int(after.HeapAlloc) - int(before.HeapAlloc)
	runtime.KeepAlive(s)
	t.Logf("%d keys: %d bytes of heap, %d counted", n, heap, counted)
	if heap > counted*5/4 || heap < counted*3/4 {
		t.Errorf("%d keys hold %d bytes of heap; the budget counts %d", n, heap, counted)
	}
}

// Times keeps the latest time put with a key, for at least the window.
func TestTimesKeepTheLatest(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	s := NewTimes(time.Minute, 1<<20, c.now)
	if _, ok := s.Get("k"); ok {
		t.Fatal("an empty set holds k")
	}
	first, later := time.Unix(100, 0), time.Unix(200, 0)
	s.Put("k", first)
	c.t = c.t.Add(90 * time.Second) // in the older generation now
	if at, ok := s.Get("k"); !ok || !at.Equal(first) {
		t.Fatalf("k: %v %v", at, ok)
	}
	s.Put("k", later)
	if at, ok := s.Get("k"); !ok || !at.Equal(later) {
		t.Fatalf("k after a second put: %v %v", at, ok)
	}
	c.t = c.t.Add(3 * time.Minute)
	if _, ok := s.Get("k"); ok {
		t.Fatal("k outlived twice the window")
	}
}
