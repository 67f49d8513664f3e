// Package keyedlimit is a token bucket per key (a client's address, say),
// so that one caller spending its bucket leaves everyone else's full.
//
// The buckets live in the instance's memory: with N instances a caller
// gets up to N buckets. The count of keys is bounded: past Max, the
// buckets not used since the last turnover are forgotten (a forgotten key
// starts again with a full bucket, which only a caller with Max addresses
// can bring about).
package keyedlimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter hands out tokens per key.
type Limiter struct {
	every rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu        sync.Mutex
	cur, prev map[string]*rate.Limiter
}

// New returns a Limiter allowing perMinute a key, in bursts of burst, for
// up to max keys at a time; now may be nil.
func New(perMinute float64, burst, max int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: rate.Limit(perMinute / 60), burst: burst, max: max, now: now,
		cur: map[string]*rate.Limiter{}, prev: map[string]*rate.Limiter{}}
}

// Allow takes a token from key's bucket, reporting whether there was one.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	b, ok := l.cur[key]
	if !ok {
		if b, ok = l.prev[key]; ok {
			delete(l.prev, key)
		} else {
			b = rate.NewLimiter(l.every, l.burst)
		}
		if len(l.cur) >= l.max {
			l.prev, l.cur = l.cur, map[string]*rate.Limiter{}
		}
		l.cur[key] = b
	}
	l.mu.Unlock()
	return b.AllowN(l.now(), 1)
}
