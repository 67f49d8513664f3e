package ledger

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store and Verdicts for tests and local runs; its
// state holds for one process only. Lookups go through an index by event,
// device and user id, so a local run with many thousands of recorded events
// stays fast. Expired entries, verdicts and claims are never returned, and
// are dropped in a sweep at most once a minute. Entries are also bounded by
// count next to their TTL (MemoryMaxEntries by default): at twice the cap,
// the oldest are dropped down to it, so a long local run or a load
// benchmark does not grow the heap without end.
type Memory struct {
	mu         sync.RWMutex
	entries    []Entry
	latest     map[Key]int        // the live position of each key; older ones are replaced
	index      map[indexKey][]int // by event, device and user id → entries
	verdicts   map[string]expiring[Verdict]
	claims     map[Key]expiring[string]    // the claiming body hash
	suppressed map[string]time.Time        // erasure suppressions: key → expiry
	cursors    map[string]expiring[string] // long jobs' places (Cursors)
	lastSweep  time.Time
	max        int // live entries kept at a compaction; 0: no count cap
	now        func() time.Time
	fail       error
}

// indexKey is an index entry: kind 'e' (event id), 'd' (device id) or 'u'
// (user id), and the id; a struct, not a concatenated string, so recording
// an entry allocates no key.
type indexKey struct {
	kind byte
	id   string
}

type expiring[T any] struct {
	v       T
	expires time.Time
}

func (e expiring[T]) live(now time.Time) bool { return e.expires.IsZero() || now.Before(e.expires) }

const memorySweepEvery = time.Minute

// MemoryMaxEntries is NewMemory's count cap: the most recent 20,000 entries
// (up to twice that between compactions, some 20 MB), enough for a local
// run's verify look-ups.
const MemoryMaxEntries = 20_000

// NewMemory returns an empty Memory capped at MemoryMaxEntries; now may be
// nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, latest: map[Key]int{}, index: map[indexKey][]int{}, max: MemoryMaxEntries,
		verdicts: map[string]expiring[Verdict]{}, claims: map[Key]expiring[string]{}, lastSweep: now()}
}

// WithMaxEntries sets the count cap (0: none) and returns m.
func (m *Memory) WithMaxEntries(n int) *Memory {
	m.mu.Lock()
	m.max = n
	m.mu.Unlock()
	return m
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, entries []Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if now := m.now(); now.Sub(m.lastSweep) >= memorySweepEvery {
		m.sweep(now)
	}
	for _, e := range entries {
		m.add(e)
	}
	if m.max > 0 && len(m.entries) >= 2*m.max {
		m.sweep(m.now()) // amortised: at most once per max new entries
	}
	return nil
}

func (m *Memory) add(e Entry) {
	i := len(m.entries)
	m.entries = append(m.entries, e)
	m.latest[e.Key()] = i
	if e.EventID != "" {
		k := indexKey{'e', e.EventID}
		m.index[k] = append(m.index[k], i)
	}
	if e.UserID != "" {
		k := indexKey{'u', e.UserID}
		m.index[k] = append(m.index[k], i)
	}
	for _, d := range e.DeviceIDs {
		if d != "" {
			k := indexKey{'d', d}
			m.index[k] = append(m.index[k], i)
		}
	}
}

// sweep drops expired and replaced entries, then the oldest beyond the
// count cap, expired verdicts and claims, and rebuilds the index.
func (m *Memory) sweep(now time.Time) {
	old, latest := m.entries, m.latest
	live := old[:0:0]
	for i, e := range old {
		if latest[e.Key()] == i && (e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt)) {
			live = append(live, e)
		}
	}
	if m.max > 0 && len(live) > m.max {
		live = live[len(live)-m.max:]
	}
	// Room for as many again (at most up to the next compaction at twice the
	// cap) at once: appends would grow it by a quarter at a time, copying
	// every entry each time.
	room := 2 * len(live)
	if m.max > 0 {
		room = min(room, 2*m.max)
	}
	m.entries, m.latest, m.index, m.lastSweep = make([]Entry, 0, room), map[Key]int{}, map[indexKey][]int{}, now
	for _, e := range live {
		m.add(e)
	}
	for h, v := range m.verdicts {
		if !v.live(now) {
			delete(m.verdicts, h)
		}
	}
	for k, c := range m.claims {
		if !c.live(now) {
			delete(m.claims, k)
		}
	}
}

// Find implements Store.
func (m *Memory) Find(_ context.Context, q Query) ([]Entry, error) {
	var key indexKey
	switch {
	case q.EventID != "":
		key = indexKey{'e', q.EventID}
	case q.DeviceID != "":
		key = indexKey{'d', q.DeviceID}
	case q.UserID != "":
		key = indexKey{'u', q.UserID}
	default:
		return nil, ErrBadQuery
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []Entry
	now := m.now()
	seen := -1
	for _, i := range m.index[key] {
		e := m.entries[i]
		// An entry listing the same device twice is indexed twice; a
		// replaced entry is no longer the latest of its key.
		if i != seen && m.latest[e.Key()] == i && Matches(e, q, now) {
			out = append(out, e)
		}
		seen = i
	}
	return out, nil
}

// Verdict implements Verdicts.
func (m *Memory) Verdict(_ context.Context, bodyHash string) (Verdict, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return Verdict{}, false, m.fail
	}
	v, ok := m.verdicts[bodyHash]
	if !ok || !v.live(m.now()) {
		return Verdict{}, false, nil
	}
	return v.v, true, nil
}

// SaveVerdict implements Verdicts, under the lock.
func (m *Memory) SaveVerdict(_ context.Context, bodyHash string, v Verdict, expires time.Time) (Verdict, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Verdict{}, m.fail
	}
	if old, ok := m.verdicts[bodyHash]; ok && old.live(m.now()) {
		return old.v, nil
	}
	m.verdicts[bodyHash] = expiring[Verdict]{v, expires}
	return v, nil
}

// Claim implements Verdicts, under the lock.
func (m *Memory) Claim(_ context.Context, k Key, bodyHash string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if c, ok := m.claims[k]; ok && c.live(m.now()) {
		return c.v == bodyHash, nil
	}
	m.claims[k] = expiring[string]{bodyHash, expires}
	return true, nil
}

// Len is the number of entries stored, replaced ones not yet swept
// included.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries)
}

// FailWith makes later calls fail with err (nil restores).
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}
