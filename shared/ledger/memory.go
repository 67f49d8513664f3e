package ledger

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for tests and local runs. Expired entries
// are never returned and are swept as new ones arrive.
type Memory struct {
	mu      sync.RWMutex
	entries []Entry
	now     func() time.Time
	fail    error
}

// NewMemory returns an empty Memory; now may be nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, entries []Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	now := m.now()
	kept := m.entries[:0]
	for _, e := range m.entries {
		if e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt) {
			kept = append(kept, e)
		}
	}
	m.entries = append(kept, entries...)
	return nil
}

// Find implements Store.
func (m *Memory) Find(_ context.Context, q Query) ([]Entry, error) {
	if q.EventID == "" && q.DeviceID == "" && q.UserID == "" {
		return nil, ErrBadQuery
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []Entry
	now := m.now()
	for _, e := range m.entries {
		if Matches(e, q, now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// FailWith makes later calls fail with err (nil restores).
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}
