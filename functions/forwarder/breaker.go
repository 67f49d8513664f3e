package forwarder

import (
	"sync"
	"time"
)

// breaker stops calls after many consecutive retryable failures in this
// instance (Moloco asks clients to stop and probe during an outage), so
// messages go back to the queue without spending their attempts. After the
// cooldown one call at a time probes; its success closes the breaker.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	probing   bool
}

// blocked reports whether a call must not be made, and for how long.
func (b *breaker) blocked() (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold {
		return 0, false
	}
	if wait := b.openUntil.Sub(b.now()); wait > 0 {
		return wait, true
	}
	if b.probing {
		return b.cooldown, true
	}
	b.probing = true
	return 0, false
}

func (b *breaker) success() {
	b.mu.Lock()
	b.failures, b.probing = 0, false
	b.mu.Unlock()
}

func (b *breaker) failure() {
	b.mu.Lock()
	b.failures++
	b.probing = false
	if b.failures >= b.threshold {
		b.openUntil = b.now().Add(b.cooldown)
	}
	b.mu.Unlock()
}
