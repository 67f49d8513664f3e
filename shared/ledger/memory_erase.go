package ledger

import (
	"context"
	"time"
)

// Suppressed implements Suppressions.
func (m *Memory) Suppressed(_ context.Context, keys []string) (map[string]bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return nil, m.fail
	}
	out := map[string]bool{}
	now := m.now()
	for _, k := range keys {
		if exp, ok := m.suppressed[k]; ok && now.Before(exp) {
			out[k] = true
		}
	}
	return out, nil
}

// Erase implements Eraser, all under the lock. An erased entry is emptied
// of its identifiers and expired in place, so no look-up returns it and the
// next sweep drops it.
func (m *Memory) Erase(_ context.Context, ids, keys []string, until time.Time) (Erased, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Erased{}, m.fail
	}
	if m.suppressed == nil {
		m.suppressed = map[string]time.Time{}
	}
	for _, k := range keys {
		if until.After(m.suppressed[k]) {
			m.suppressed[k] = until
		}
	}
	var out Erased
	now := m.now()
	for _, id := range ids {
		for _, kind := range []byte{'u', 'd'} {
			for _, i := range m.index[indexKey{kind, id}] {
				e := m.entries[i]
				if m.latest[e.Key()] != i || !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt) {
					continue // replaced, expired or erased already
				}
				m.entries[i] = Entry{EventID: e.EventID, Source: e.Source, ExpiresAt: time.Unix(1, 0)}
				out.Entries++
				if c, ok := m.claims[e.Key()]; ok {
					delete(m.claims, e.Key())
					out.Claims++
					if _, ok := m.verdicts[c.v]; ok {
						delete(m.verdicts, c.v)
						out.Verdicts++
					}
				}
			}
		}
	}
	return out, nil
}
