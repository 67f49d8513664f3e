package queue

import (
	"context"
	"sync"
)

// Memory is an in-process Publisher for unit tests and local runs. It keeps
// every acknowledged message, and FailWith makes later publishes fail.
type Memory struct {
	mu   sync.Mutex
	msgs []Message
	fail error
}

// Publish implements Publisher.
func (m *Memory) Publish(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, msg := range msgs {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if m.fail != nil {
			errs[i] = m.fail
			continue
		}
		m.msgs = append(m.msgs, msg)
	}
	return errs
}

// FailWith makes every later publish fail with err (nil restores success).
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// Messages returns a copy of what was acknowledged so far.
func (m *Memory) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.msgs...)
}

// Close implements Publisher.
func (m *Memory) Close() error { return nil }

// Discard acknowledges and drops everything: the handler's cost alone, for
// benchmarks.
type Discard struct{}

// Publish implements Publisher.
func (Discard) Publish(_ context.Context, msgs []Message) []error { return make([]error, len(msgs)) }

// Close implements Publisher.
func (Discard) Close() error { return nil }
