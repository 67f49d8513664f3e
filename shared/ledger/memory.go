package ledger

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for tests and local runs. Lookups go
// through an index by event, device and user id, so a local run with many
// thousands of recorded events stays fast. Expired entries are never
// returned, and are dropped in a sweep at most once a minute.
type Memory struct {
	mu        sync.RWMutex
	entries   []Entry
	index     map[string][]int // "e:"+event id, "d:"+device id, "u:"+user id → entries
	lastSweep time.Time
	now       func() time.Time
	fail      error
}

const memorySweepEvery = time.Minute

// NewMemory returns an empty Memory; now may be nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, index: map[string][]int{}, lastSweep: now()}
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

// sweep drops expired entries and rebuilds the index.
func (m *Memory) sweep(now time.Time) {
	old := m.entries
	m.entries, m.index, m.lastSweep = nil, map[string][]int{}, now
	for _, e := range old {
		if e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt) {
			m.add(e)
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
		// An entry listing the same device twice is indexed twice.
		if i != seen && Matches(m.entries[i], q, now) {
			out = append(out, m.entries[i])
		}
		seen = i
	}
	return out, nil
}

// FailWith makes later calls fail with err (nil restores).
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}
