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
type Set struct {
	mu        sync.Mutex
	window    time.Duration
	maxBytes  int // of one generation, estimated (EntryBytes)
	curBytes  int
	now       func() time.Time
	rotated   time.Time
	cur, prev map[string]struct{}
}

// EntryOverhead is what a key costs besides its bytes, as an estimate of
// the heap: its string header and map slot, and its allocation's rounding
// (measured: 77 bytes a key of 25 bytes, at 262,144 and at 1,048,576 keys).
const EntryOverhead = 52

// New returns a Set remembering keys for window; maxBytes bounds one
// generation's estimated heap, len(key) + EntryOverhead per key (past it
// the set rotates early, shortening its memory rather than outgrowing the
// instance's under a flood), so a Set holds at most about twice maxBytes.
func New(window time.Duration, maxBytes int, now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	return &Set{window: window, maxBytes: maxBytes, now: now, rotated: now(),
		cur: map[string]struct{}{}, prev: map[string]struct{}{}}
}

func (s *Set) rotate() {
	now := s.now()
	if now.Sub(s.rotated) >= s.window || s.curBytes >= s.maxBytes {
		if now.Sub(s.rotated) >= 2*s.window {
			s.prev = map[string]struct{}{}
		} else {
			s.prev = s.cur
		}
		s.cur = make(map[string]struct{}, len(s.prev))
		s.curBytes = 0
		s.rotated = now
	}
}

// Contains reports whether key was added within the window.
func (s *Set) Contains(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate()
	return s.has(key)
}

func (s *Set) has(key string) bool {
	if _, ok := s.cur[key]; ok {
		return true
	}
	_, ok := s.prev[key]
	return ok
}

// Add inserts key and reports whether it was new: a check-and-set in one
// step, so two concurrent callers cannot both see a key as new.
func (s *Set) Add(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate()
	if s.has(key) {
		return false
	}
	s.cur[key] = struct{}{}
	s.curBytes += len(key) + EntryOverhead
	return true
}

// Remove forgets key.
func (s *Set) Remove(key string) {
	s.mu.Lock()
	if _, ok := s.cur[key]; ok {
		delete(s.cur, key)
		s.curBytes -= len(key) + EntryOverhead
	}
	delete(s.prev, key)
	s.mu.Unlock()
}
