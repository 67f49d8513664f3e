package secrets

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Cached keeps each secret's value for a TTL, so a hot path never waits on
// the network; concurrent readers of an expired value share one fetch. When
// a refresh fails, the last good value is served for a grace period, so a
// brief Secret Manager outage does not stop traffic; past it, or with no
// good value, the error is returned.
type Cached struct {
	src   Source
	ttl   time.Duration
	grace time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]cacheEntry
	group   singleflight.Group
}

type cacheEntry struct {
	value   []byte
	fetched time.Time
	stale   bool // invalidated: re-read before use, but still a fallback
}

// CacheOption configures a Cached.
type CacheOption func(*Cached)

// WithGrace sets how long a stale value may be served while refreshes fail.
func WithGrace(d time.Duration) CacheOption { return func(c *Cached) { c.grace = d } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) CacheOption { return func(c *Cached) { c.now = now } }

// WithLogger reports refresh failures (never values).
func WithLogger(l *slog.Logger) CacheOption { return func(c *Cached) { c.log = l } }

// NewCached wraps src with a cache of the given TTL.
func NewCached(src Source, ttl time.Duration, opts ...CacheOption) *Cached {
	c := &Cached{src: src, ttl: ttl, grace: 10 * time.Minute, now: time.Now,
		log: slog.New(slog.DiscardHandler), entries: map[string]cacheEntry{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Get implements Source. The returned slice must not be modified.
func (c *Cached) Get(ctx context.Context, name string) ([]byte, error) {
	if v, ok := c.fresh(name); ok {
		return v, nil
	}
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	v, err, _ := c.group.Do(name, func() (any, error) {
		// A flight that ended between the look-up above and this one
		// stored the value: use it rather than fetching again.
		if v, ok := c.fresh(name); ok {
			return v, nil
		}
		// Not the caller's context: one caller giving up must not fail the
		// fetch that others are waiting on.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		v, err := c.src.Get(fctx, name)
		if err == nil {
			// Stored before the flight ends, so a reader arriving just
			// after it finds the value instead of fetching again.
			c.mu.Lock()
			c.entries[name] = cacheEntry{value: v, fetched: c.now()}
			c.mu.Unlock()
		}
		return v, err
	})
	if err != nil {
		if ok && c.now().Sub(e.fetched) < c.ttl+c.grace {
			c.log.WarnContext(ctx, "secret refresh failed; serving the cached value", "secret", name, "error", err.Error())
			return e.value, nil
		}
		return nil, err
	}
	return v.([]byte), nil
}

// fresh is name's cached value while it is within the TTL and not
// invalidated.
func (c *Cached) fresh(name string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[name]
	if !ok || e.stale || c.now().Sub(e.fetched) >= c.ttl {
		return nil, false
	}
	return e.value, true
}

// Invalidate makes the next Get of name read the source again: how the
// forwarder picks up a rotated platform key after a 401/403.
func (c *Cached) Invalidate(name string) {
	c.mu.Lock()
	if e, ok := c.entries[name]; ok {
		e.stale = true
		c.entries[name] = e
	}
	c.mu.Unlock()
}
