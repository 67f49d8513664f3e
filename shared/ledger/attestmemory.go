package ledger

import (
	"context"
	"sync"
	"time"
)

// AttestMemory is an in-process AttestStore for tests and the local stack
// (one process, so its guarantees hold there; never for serverless
// instances). Expired records are dropped in a sweep at most once a minute.
type memoryBudget struct {
	used    int64
	expires time.Time
}

type AttestMemory struct {
	mu        sync.Mutex
	spent     map[string]time.Time // challenge → expiry
	budgets   map[string]memoryBudget
	keys      map[string]AttestedKey
	lastSweep time.Time
	now       func() time.Time
}

// NewAttestMemory returns an empty store; now may be nil.
func NewAttestMemory(now func() time.Time) *AttestMemory {
	if now == nil {
		now = time.Now
	}
	return &AttestMemory{spent: map[string]time.Time{}, budgets: map[string]memoryBudget{}, keys: map[string]AttestedKey{}, now: now, lastSweep: now()}
}

func (m *AttestMemory) sweep() time.Time {
	now := m.now()
	if now.Sub(m.lastSweep) < memorySweepEvery {
		return now
	}
	m.lastSweep = now
	for k, exp := range m.spent {
		if !now.Before(exp) {
			delete(m.spent, k)
		}
	}
	for k, b := range m.budgets {
		if !now.Before(b.expires) {
			delete(m.budgets, k)
		}
	}
	for k, v := range m.keys {
		if !now.Before(v.ExpiresAt) {
			delete(m.keys, k)
		}
	}
	return now
}

// SpendChallenge implements AttestStore.
func (m *AttestMemory) SpendChallenge(_ context.Context, value string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.sweep()
	if exp, ok := m.spent[value]; ok && now.Before(exp) {
		return ErrExists
	}
	m.spent[value] = expires
	return nil
}

// TakeBudget implements AttestStore.
func (m *AttestMemory) TakeBudget(_ context.Context, name string, n, limit int64, expires time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.sweep()
	b := m.budgets[name]
	if !now.Before(b.expires) {
		b = memoryBudget{}
	}
	if b.used+n > limit {
		return 0, ErrBudget
	}
	b.used += n
	b.expires = expires
	m.budgets[name] = b
	return b.used, nil
}

// CreateKey implements AttestStore.
func (m *AttestMemory) CreateKey(_ context.Context, k AttestedKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.sweep()
	if old, ok := m.keys[k.KeyID]; ok && now.Before(old.ExpiresAt) {
		return ErrExists
	}
	k.PublicKey = append([]byte(nil), k.PublicKey...)
	m.keys[k.KeyID] = k
	return nil
}

// GetKey implements AttestStore.
func (m *AttestMemory) GetKey(_ context.Context, keyID string) (AttestedKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.sweep()
	k, ok := m.keys[keyID]
	if !ok || !now.Before(k.ExpiresAt) {
		return AttestedKey{}, ErrNotFound
	}
	return k, nil
}

// AdvanceCounter implements AttestStore.
func (m *AttestMemory) AdvanceCounter(_ context.Context, keyID string, n uint32, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.sweep()
	k, ok := m.keys[keyID]
	if !ok || !now.Before(k.ExpiresAt) {
		return ErrNotFound
	}
	if k.Counter >= n {
		return ErrCounter
	}
	k.Counter, k.ExpiresAt = n, expires
	m.keys[keyID] = k
	return nil
}
