// Package ttlset remembers keys for at least a window and at most twice it,
// in bounded memory: the de-duplication and replay guards need exactly that
// and no more, so there is no per-entry timer or heap to maintain.
package ttlset

import (
	"sync"
	"time"
)

// Set is two generations of keys: lookups check both, inserts go to the
// current one, and every window the older generation is dropped. It is safe
// for concurrent use.
type Set struct{ g gens[struct{}] }

// Times is a Set that keeps a time with each key (when what the key names
// happened), for a guard that must tell one occurrence from a later one.
type Times struct{ g gens[time.Time] }

// EntryOverhead is what a key costs besides its bytes, as an estimate of
// the heap: its string header and map slot, and its allocation's rounding
// (measured: 77 bytes a key of 25 bytes, at 262,144 and at 1,048,576 keys).
const EntryOverhead = 52

// timeBytes is what a Times entry costs besides a Set entry's: the value.
const timeBytes = 24

// New returns a Set remembering keys for window; maxBytes bounds one
// generation's estimated heap, len(key) + EntryOverhead per key (past it
// the set rotates early, shortening its memory rather than outgrowing the
// instance's under a flood), so a Set holds at most about twice maxBytes.
func New(window time.Duration, maxBytes int, now func() time.Time) *Set {
	return &Set{g: newGens[struct{}](window, maxBytes, EntryOverhead, now)}
}

// NewTimes returns a Times as New returns a Set; an entry costs timeBytes
// more.
func NewTimes(window time.Duration, maxBytes int, now func() time.Time) *Times {
	return &Times{g: newGens[time.Time](window, maxBytes, EntryOverhead+timeBytes, now)}
}

// Contains reports whether key was added within the window.
func (s *Set) Contains(key string) bool {
	_, ok := s.g.get(key)
	return ok
}

// Add inserts key and reports whether it was new: a check-and-set in one
// step, so two concurrent callers cannot both see a key as new.
func (s *Set) Add(key string) bool { return s.g.add(key, struct{}{}, false) }

// Remove forgets key.
func (s *Set) Remove(key string) { s.g.remove(key) }

// Get returns the time stored with key within the window.
func (t *Times) Get(key string) (time.Time, bool) { return t.g.get(key) }

// Put stores at with key, replacing what it held.
func (t *Times) Put(key string, at time.Time) { t.g.add(key, at, true) }

// gens is the two generations under a Set or a Times.
type gens[V any] struct {
	mu        sync.Mutex
	window    time.Duration
	maxBytes  int // of one generation, estimated
	overhead  int // an entry's estimated bytes besides its key's
	curBytes  int
	now       func() time.Time
	rotated   time.Time
	cur, prev map[string]V
}

func newGens[V any](window time.Duration, maxBytes, overhead int, now func() time.Time) gens[V] {
	if now == nil {
		now = time.Now
	}
	return gens[V]{window: window, maxBytes: maxBytes, overhead: overhead, now: now, rotated: now(),
		cur: map[string]V{}, prev: map[string]V{}}
}

// rotate starts a new generation when the current one is a window old, or
// at its byte budget. A window's rotation moves rotated on by exactly one
// window, not to now, so the older generation only ever holds keys added in
// the window before rotated: however long an instance sat idle, a key is
// remembered for at least the window and less than twice it (a budget
// rotation only shortens that).
func (g *gens[V]) rotate() {
	now := g.now()
	elapsed := now.Sub(g.rotated)
	switch {
	case elapsed >= 2*g.window: // both generations are past the window
		g.prev = map[string]V{}
		g.rotated = now
	case elapsed >= g.window:
		g.prev = g.cur
		g.rotated = g.rotated.Add(g.window)
	case g.curBytes >= g.maxBytes:
		g.prev = g.cur
		g.rotated = now
	default:
		return
	}
	g.cur = make(map[string]V, len(g.prev))
	g.curBytes = 0
}

func (g *gens[V]) get(key string) (V, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rotate()
	return g.lookup(key)
}

func (g *gens[V]) lookup(key string) (V, bool) {
	if v, ok := g.cur[key]; ok {
		return v, true
	}
	v, ok := g.prev[key]
	return v, ok
}

// add stores v under key unless the key is held and replace is false; it
// reports whether the key was new.
func (g *gens[V]) add(key string, v V, replace bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rotate()
	_, held := g.lookup(key)
	if held && !replace {
		return false
	}
	if _, inCur := g.cur[key]; !inCur {
		g.curBytes += len(key) + g.overhead
	}
	g.cur[key] = v
	return !held
}

func (g *gens[V]) remove(key string) {
	g.mu.Lock()
	if _, ok := g.cur[key]; ok {
		delete(g.cur, key)
		g.curBytes -= len(key) + g.overhead
	}
	delete(g.prev, key)
	g.mu.Unlock()
}
