package ledger

import (
	"context"
	"time"
)

// Cursors keep a long job's place, shared by every instance and surviving
// a restart: an archive replay saves where it got to after each batch, and
// the next run of the same request goes on from there. A save replaces
// the value whole (one atomic write); a cursor past its expiry is gone.
type Cursors interface {
	// Cursor is the saved value, "" when there is none.
	Cursor(ctx context.Context, key string) (string, error)
	SaveCursor(ctx context.Context, key, value string, expires time.Time) error
}

// Cursor implements Cursors.
func (m *Memory) Cursor(_ context.Context, key string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return "", m.fail
	}
	if c, ok := m.cursors[key]; ok && c.live(m.now()) {
		return c.v, nil
	}
	return "", nil
}

// SaveCursor implements Cursors.
func (m *Memory) SaveCursor(_ context.Context, key, value string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if m.cursors == nil {
		m.cursors = map[string]expiring[string]{}
	}
	m.cursors[key] = expiring[string]{v: value, expires: expires}
	return nil
}
