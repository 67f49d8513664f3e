package devstack

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"sync"
)

// Counters counts the pipeline's outcomes from the functions' own
// structured log lines, the way log-based metrics do in the cloud: one
// "ingest request" line per request, one "forward" line per delivery
// attempt, one "verify" line per callback, one "backfill" line per run. So
// the counters say exactly what the logs say, and the cores carry no
// metrics code of their own.
type Counters struct {
	mu sync.Mutex
	n  map[string]int64
}

func newCounters() *Counters { return &Counters{n: map[string]int64{}} }

// Snapshot returns a copy of every counter.
func (c *Counters) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

func (c *Counters) observe(r slog.Record) {
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.Resolve(); return true })
	str := func(k string) string { return attrs[k].String() }
	num := func(k string) int64 {
		if v, ok := attrs[k]; ok && v.Kind() == slog.KindInt64 {
			return v.Int64()
		}
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Message {
	case "ingest request":
		c.n["ingest.requests"]++
		c.n["ingest.status."+strconv.FormatInt(num("status"), 10)]++
		for _, k := range []string{"accepted", "duplicates", "rejected", "not_accepted"} {
			c.n["ingest.events."+k] += num(k)
		}
	case "forward":
		c.n["forwarder."+str("outcome")]++
	case "attestation": // one per request of a monitor or require source
		c.n["attestation."+str("policy")+"."+str("verdict")]++
	case "attest exchange":
		c.n["attest."+str("route")+"."+str("outcome")]++
	case "verify":
		c.n["verify."+str("reason")]++
	case "backfill":
		c.n["backfill.runs"]++
		for _, k := range []string{"scanned", "resent", "skipped"} {
			c.n["backfill."+k] += num(k)
		}
	}
}

// writeCounters answers with the counters as one JSON object, keys sorted.
func writeCounters(w http.ResponseWriter, counters map[string]int64) {
	names := make([]string, 0, len(counters))
	for k := range counters {
		names = append(names, k)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", "application/json")
	buf := []byte{'{'}
	for i, k := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		key, _ := json.Marshal(k)
		buf = append(append(append(buf, key...), ':'), strconv.FormatInt(counters[k], 10)...)
	}
	w.Write(append(buf, '}', '\n'))
}

// countingHandler counts every record, whatever the log level, and passes
// on to the wrapped handler what it would print.
type countingHandler struct {
	c     *Counters
	inner slog.Handler
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.c.observe(r)
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{h.c, h.inner.WithAttrs(as)}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.c, h.inner.WithGroup(name)}
}
