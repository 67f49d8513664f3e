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
// structured log lines, the way the cloud's log-based metrics do, under the
// same names (terraform/modules/*/monitoring.tf): "<metric>.<value>" for
// the metric's main label or dimension, e.g. ingest_events.accepted,
// forwarder_outcomes.dead_lettered, forwarder_dead_lettered.auth,
// verify_reasons.not_found. So the counters say exactly what the logs say,
// and the cores carry no metrics code of their own.
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

func (c *Counters) observe(fn string, r slog.Record) {
	// Only these attributes name a counter; reading just them, without a
	// map of every attribute, keeps counting cheap at tens of thousands of
	// lines a second.
	var outcome, class, status, reason, policy, verdict, route, accepted, duplicates string
	r.Attrs(func(a slog.Attr) bool {
		var dst *string
		switch a.Key {
		case "outcome":
			dst = &outcome
		case "class":
			dst = &class
		case "status":
			dst = &status
		case "reason":
			dst = &reason
		case "policy":
			dst = &policy
		case "verdict":
			dst = &verdict
		case "route":
			dst = &route
		case "accepted":
			dst = &accepted
		case "duplicates":
			dst = &duplicates
		default:
			return true
		}
		*dst = a.Value.Resolve().String()
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	add := func(name string) { c.n[name]++ }
	// A request's line carries the counts of its routine outcomes.
	addCount := func(name, n string) {
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
			c.n[name] += v
		}
	}
	if r.Level >= slog.LevelError {
		add("function_errors." + fn)
	}
	switch fn + "/" + outcome {
	case "ingest/answered":
		add("ingest_requests." + status)
		addCount("ingest_events.accepted", accepted)
		addCount("ingest_events.duplicate", duplicates)
	case "ingest/auth_failed":
		add("ingest_auth_failures")
		add("ingest_auth_failures." + reason)
	case "ingest/rejected", "ingest/not_accepted", "ingest/refused":
		// Accepted and duplicate events are counted from the request's
		// line; their own lines (debug level) are not, as in the cloud.
		add("ingest_events." + outcome)
		if class != "" {
			add("ingest_events." + outcome + "." + class)
		}
	case "forwarder/delivered", "forwarder/duplicate", "forwarder/retry", "forwarder/circuit_open",
		"forwarder/dead_lettered", "forwarder/dead_letter_failed", "forwarder/erased":
		add("forwarder_outcomes." + outcome)
		if outcome == "dead_lettered" {
			add("forwarder_dead_lettered." + class)
			if class == "auth" {
				add("platform_auth_failures")
			}
		}
	case "verify/confirmed", "verify/failed":
		add("verify_callbacks." + outcome)
		add("verify_reasons." + reason)
	case "backfill/resent", "backfill/reparked", "backfill/erased":
		add("backfill_events." + outcome)
		if class == "auth" {
			add("platform_auth_failures")
		}
	case "backfill/completed", "backfill/failed":
		add("backfill_runs." + outcome)
	case "ingest/attestation_checked": // one per request of a monitor or require source
		add("ingest_attestation." + policy + "." + verdict)
	case "ingest/exchanged", "ingest/exchange_refused":
		add("attest_exchanges." + route + "." + reason)
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
// on to the wrapped handler what it would print. It keeps the "function"
// attribute the wiring adds with Logger.With.
type countingHandler struct {
	c     *Counters
	inner slog.Handler
	fn    string
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.c.observe(h.fn, r)
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	fn := h.fn
	for _, a := range as {
		if a.Key == "function" {
			fn = a.Value.String()
		}
	}
	return countingHandler{h.c, h.inner.WithAttrs(as), fn}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.c, h.inner.WithGroup(name), h.fn}
}
