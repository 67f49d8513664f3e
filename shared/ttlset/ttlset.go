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
	mu         sync.Mutex
	window     time.Duration
	maxEntries int
	now        func() time.Time
	rotated    time.Time
	cur, prev  map[string]struct{}
}

// New returns a Set remembering keys for window; maxEntries bounds one
// generation (past it the set rotates early, shortening memory rather than
// growing without limit under a flood).
func New(window time.Duration, maxEntries int, now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	return &Set{window: window, maxEntries: maxEntries, now: now, rotated: now(),
		cur: map[string]struct{}{}, prev: map[string]struct{}{}}
}

func (s *Set) rotate() {
	now := s.now()
	if now.Sub(s.rotated) >= s.window || len(s.cur) >= s.maxEntries {
		if now.Sub(s.rotated) >= 2*s.window {
			s.prev = map[string]struct{}{}
		} else {
			s.prev = s.cur
		}
		s.cur = make(map[string]struct{}, len(s.prev))
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
	return true
}

// Remove forgets key.
func (s *Set) Remove(key string) {
	s.mu.Lock()
	delete(s.cur, key)
	delete(s.prev, key)
	s.mu.Unlock()
}
