package ledger

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store and Verdicts for tests and local runs; its
// state holds for one process only. Lookups go through an index by event,
// device and user id, so a local run with many thousands of recorded events
// stays fast. Expired entries, verdicts and claims are never returned, and
// are dropped in a sweep at most once a minute.
type Memory struct {
	mu        sync.RWMutex
	entries   []Entry
	latest    map[Key]int      // the live position of each key; older ones are replaced
	index     map[string][]int // "e:"+event id, "d:"+device id, "u:"+user id → entries
	verdicts  map[string]expiring[Verdict]
	claims    map[Key]expiring[string] // the claiming body hash
	lastSweep time.Time
	now       func() time.Time
	fail      error
}

type expiring[T any] struct {
	v       T
	expires time.Time
}

func (e expiring[T]) live(now time.Time) bool { return e.expires.IsZero() || now.Before(e.expires) }

const memorySweepEvery = time.Minute

// NewMemory returns an empty Memory; now may be nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, latest: map[Key]int{}, index: map[string][]int{},
		verdicts: map[string]expiring[Verdict]{}, claims: map[Key]expiring[string]{}, lastSweep: now()}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, entries []Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if now := m.now(); now.Sub(m.lastSweep) >= memorySweepEvery {
		m.sweep(now)
	}
	for _, e := range entries {
		m.add(e)
	}
	return nil
}

func (m *Memory) add(e Entry) {
	i := len(m.entries)
	m.entries = append(m.entries, e)
	m.latest[e.Key()] = i
	if e.EventID != "" {
		m.index["e:"+e.EventID] = append(m.index["e:"+e.EventID], i)
	}
	if e.UserID != "" {
		m.index["u:"+e.UserID] = append(m.index["u:"+e.UserID], i)
	}
	for _, d := range e.DeviceIDs {
		if d != "" {
			m.index["d:"+d] = append(m.index["d:"+d], i)
		}
	}
}

// sweep drops expired and replaced entries, expired verdicts and claims,
// and rebuilds the index.
func (m *Memory) sweep(now time.Time) {
	old, latest := m.entries, m.latest
	m.entries, m.latest, m.index, m.lastSweep = nil, map[Key]int{}, map[string][]int{}, now
	for i, e := range old {
		if latest[e.Key()] == i && (e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt)) {
			m.add(e)
		}
	}
	for h, v := range m.verdicts {
		if !v.live(now) {
			delete(m.verdicts, h)
		}
	}
	for k, c := range m.claims {
		if !c.live(now) {
			delete(m.claims, k)
		}
	}
}

// Find implements Store.
func (m *Memory) Find(_ context.Context, q Query) ([]Entry, error) {
	var key string
	switch {
	case q.EventID != "":
		key = "e:" + q.EventID
	case q.DeviceID != "":
		key = "d:" + q.DeviceID
	case q.UserID != "":
		key = "u:" + q.UserID
	default:
		return nil, ErrBadQuery
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []Entry
	now := m.now()
	seen := -1
	for _, i := range m.index[key] {
		e := m.entries[i]
		// An entry listing the same device twice is indexed twice; a
		// replaced entry is no longer the latest of its key.
		if i != seen && m.latest[e.Key()] == i && Matches(e, q, now) {
			out = append(out, e)
		}
		seen = i
	}
	return out, nil
}

// Verdict implements Verdicts.
func (m *Memory) Verdict(_ context.Context, bodyHash string) (Verdict, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return Verdict{}, false, m.fail
	}
	v, ok := m.verdicts[bodyHash]
	if !ok || !v.live(m.now()) {
		return Verdict{}, false, nil
	}
	return v.v, true, nil
}

// SaveVerdict implements Verdicts, under the lock.
func (m *Memory) SaveVerdict(_ context.Context, bodyHash string, v Verdict, expires time.Time) (Verdict, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Verdict{}, m.fail
	}
	if old, ok := m.verdicts[bodyHash]; ok && old.live(m.now()) {
		return old.v, nil
	}
	m.verdicts[bodyHash] = expiring[Verdict]{v, expires}
	return v, nil
}

// Claim implements Verdicts, under the lock.
func (m *Memory) Claim(_ context.Context, k Key, bodyHash string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if c, ok := m.claims[k]; ok && c.live(m.now()) {
		return c.v == bodyHash, nil
	}
	m.claims[k] = expiring[string]{bodyHash, expires}
	return true, nil
}

// FailWith makes later calls fail with err (nil restores).
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}
