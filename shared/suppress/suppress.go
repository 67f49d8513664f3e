// Package suppress is the erasure list as the functions consult it: the
// keys of erased people, looked up in the ledger backend shared by every
// instance, behind a short per-instance cache.
//
// A key is the SHA-256 of an identifier as published (what the queue, the
// ledger and the platform see: hashed with the salt when the anonymiser
// hashes that field), so ingest, the forwarder and backfill compute it from
// a queued event without the salt, and the list holds no raw id.
package suppress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"eventrelay.dev/eventrelay/shared/event"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ttlset"
)

const keyPrefix = "eventrelay-suppress\x00"

// Key is the suppression key of one published identifier.
func Key(published string) string {
	// Ids as published are 64 hex characters (an HMAC) or short raw ids:
	// hashed from a stack buffer, the hex string is the one allocation.
	var buf [192]byte
	n := copy(buf[:], keyPrefix)
	var sum [sha256.Size]byte
	if len(published) <= len(buf)-n {
		n += copy(buf[n:], published)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256([]byte(keyPrefix + published))
	}
	return hex.EncodeToString(sum[:])
}

// appendEventKeys appends the keys of the identifiers erasure acts on:
// user_id and the three device ids.
func appendEventKeys(keys []string, e *event.Event) []string {
	add := func(id string) {
		if id != "" {
			keys = append(keys, Key(id))
		}
	}
	add(e.UserID)
	if d := e.Device; d != nil {
		add(d.PersistentID)
		add(d.AdvertisingID)
		add(d.UniqueDeviceID)
	}
	return keys
}

// Checker answers "is this event an erased person's?" from the backend.
// Keys found suppressed are remembered for HitCache (a suppression lasts
// its retention, far longer); keys found free are remembered for at most
// MissCache, so an erasure takes effect on every instance within MissCache
// of its write (0: every look-up reads the backend). Both caches are per
// instance. It is safe for concurrent use.
type Checker struct {
	store  ledger.Suppressions
	hits   *ttlset.Set
	misses *ttlset.Set // nil: no caching of misses
}

// HitCache is how long a found suppression is remembered per instance.
const HitCache = 10 * time.Minute

// NewChecker returns a Checker on store; now may be nil.
func NewChecker(store ledger.Suppressions, missCache time.Duration, now func() time.Time) *Checker {
	// A ttlset remembers for between its window and twice it: half the
	// setting keeps the longest stay within it.
	// Bounded by estimated bytes a generation (keys are 64 hex digits): the
	// hits, few, 2 MB (some 18,000 keys); the misses 8 MB (some 72,000: at
	// thousands of events a second an instance remembers them for less than
	// missCache, and asks the backend more often, rather than outgrow its
	// memory).
	c := &Checker{store: store, hits: ttlset.New(HitCache/2, 2<<20, now)}
	if missCache > 0 {
		c.misses = ttlset.New(missCache/2, 8<<20, now)
	}
	return c
}

// Erased reports, per event, whether any of its identifiers is suppressed:
// one backend read for all the keys the caches do not answer.
func (c *Checker) Erased(ctx context.Context, events []*event.Event) ([]bool, error) {
	out := make([]bool, len(events))
	// One flat slice of keys; event i's are keys[ends[i-1]:ends[i]].
	keys := make([]string, 0, 2*len(events))
	ends := make([]int, len(events))
	var ask []string
	for i, e := range events {
		start := len(keys)
		keys = appendEventKeys(keys, e)
		ends[i] = len(keys)
		for _, k := range keys[start:] {
			switch {
			case c.hits.Contains(k):
				out[i] = true
			case c.misses != nil && c.misses.Contains(k):
			default:
				ask = append(ask, k)
			}
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	found, err := c.store.Suppressed(ctx, ask)
	if err != nil {
		return nil, err
	}
	for _, k := range ask {
		if found[k] {
			c.hits.Add(k)
		} else if c.misses != nil {
			c.misses.Add(k)
		}
	}
	start := 0
	for i, end := range ends {
		for _, k := range keys[start:end] {
			if found[k] {
				out[i] = true
			}
		}
		start = end
	}
	return out, nil
}

// ErasedOne is Erased for one event.
func (c *Checker) ErasedOne(ctx context.Context, e *event.Event) (bool, error) {
	r, err := c.Erased(ctx, []*event.Event{e})
	if err != nil {
		return false, err
	}
	return r[0], nil
}

// Remember marks keys suppressed on this instance at once: the instance
// that performed an erasure does not wait out its own miss cache.
func (c *Checker) Remember(keys []string) {
	for _, k := range keys {
		c.hits.Add(k)
		if c.misses != nil {
			c.misses.Remove(k)
		}
	}
}
