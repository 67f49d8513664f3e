package ledger

import (
	"context"
	"sync"
	"time"
)

// AttestMemory is an in-process AttestStore for tests and the local stack
// (one process, so its guarantees hold there; never for serverless
// instances). Expired records are dropped in a sweep at most once a minute.
type AttestMemory struct {
	mu         sync.Mutex
	challenges map[string]Challenge
	keys       map[string]AttestedKey
	lastSweep  time.Time
	now        func() time.Time
}

// NewAttestMemory returns an empty store; now may be nil.
func NewAttestMemory(now func() time.Time) *AttestMemory {
	if now == nil {
		now = time.Now
	}
	return &AttestMemory{challenges: map[string]Challenge{}, keys: map[string]AttestedKey{}, now: now, lastSweep: now()}
}

func (m *AttestMemory) sweep() time.Time {
	now := m.now()
	if now.Sub(m.lastSweep) < memorySweepEvery {
		return now
	}
	m.lastSweep = now
	for k, c := range m.challenges {
		if !now.Before(c.ExpiresAt) {
			delete(m.challenges, k)
		}
	}
	for k, v := range m.keys {
		if !now.Before(v.ExpiresAt) {
			delete(m.keys, k)
		}
	}
	return now
}

// PutChallenge implements AttestStore.
func (m *AttestMemory) PutChallenge(_ context.Context, c Challenge) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	m.challenges[c.Value] = c
	return nil
}

// TakeChallenge implements AttestStore.
func (m *AttestMemory) TakeChallenge(_ context.Context, value string) (Challenge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.sweep()
	c, ok := m.challenges[value]
	delete(m.challenges, value)
	if !ok || !now.Before(c.ExpiresAt) {
		return Challenge{}, ErrNotFound
	}
	return c, nil
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
