// Package secrets reads secret values (the platform API key, ingest keys,
// DFINERY keys) from Secret Manager or Secrets Manager, with a per-instance
// cache so a hot path never waits on the network and a rotation (a new
// version) is picked up after the TTL without a redeploy.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNotFound is returned when the named secret or version does not exist,
// which is also what both clouds answer for a secret created without a
// value (no version; AWSCURRENT unset) to a reader that may only read
// values. The functions start anyway and answer not_configured until it
// has one (internal/setup).
var ErrNotFound = errors.New("secret not found")

// Source fetches the current value of a named secret. Names are backend
// specific: a Secret Manager resource (projects/P/secrets/S/versions/latest)
// or a Secrets Manager id or ARN.
type Source interface {
	Get(ctx context.Context, name string) ([]byte, error)
}

// Memory is an in-process Source for tests and local runs.
type Memory struct {
	mu     sync.RWMutex
	values map[string][]byte
	reads  map[string]int
}

// NewMemory returns a Memory holding values.
func NewMemory(values map[string]string) *Memory {
	m := &Memory{values: map[string][]byte{}, reads: map[string]int{}}
	for k, v := range values {
		m.values[k] = []byte(v)
	}
	return m
}

// Get implements Source.
func (m *Memory) Get(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	m.reads[name]++
	return append([]byte(nil), v...), nil
}

// Set stores a new value, as a rotation would.
func (m *Memory) Set(name, value string) {
	m.mu.Lock()
	m.values[name] = []byte(value)
	m.mu.Unlock()
}

// Reads counts the Get calls for name that found a value.
func (m *Memory) Reads(name string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.reads[name]
}

// Values returns a copy of every secret held.
func (m *Memory) Values() map[string]string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]string, len(m.values))
	for k, v := range m.values {
		out[k] = string(v)
	}
	return out
}
