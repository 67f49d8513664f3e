package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"eventrelay.dev/eventrelay/functions/verify"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// ReasonNotConfigured is the answer of a function whose secrets exist but
// have no value yet: Terraform creates them empty, and the operator adds the
// values after the one apply.
const ReasonNotConfigured = "not_configured"

// secretsTTL is how long a secret value is cached, and so how soon a value
// added after the deploy is seen.
func secretsTTL(env *settings.Env) time.Duration {
	return settings.SecretsCacheTTL.Get(env)
}

// unset reports whether err says a secret has no value. Both clouds answer
// "not found" alike for a secret without a version and for a wrong name to
// a reader that may only read values; either way the operator's fix is to
// add the value the log line names.
func unset(err error) bool { return errors.Is(err, secrets.ErrNotFound) }

// awaitSecrets serves build's handler once the secrets it needs have values.
// Until then it answers refuse and tries again at most once per retry (the
// cache TTL), so a value added after the deploy is picked up without a
// redeploy. Per instance: every instance finds the values on its own.
type awaitSecrets struct {
	src      secrets.Source
	required []string // each needs a value
	anyOf    []string // at least one needs a value (ingest's two key secrets)
	build    func(context.Context) (http.Handler, error)
	refuse   http.Handler
	retry    time.Duration
	log      *slog.Logger
	now      func() time.Time

	ready atomic.Pointer[http.Handler]
	mu    sync.Mutex // held by the one request that tries again
	next  time.Time
}

// start builds the handler at once when every value is there. A missing
// value logs one error line naming the secret(s) and starts the function
// anyway; any other failure (no access, a bad value) stops the start, as a
// wrong configuration always has.
func (g *awaitSecrets) start(ctx context.Context) (http.Handler, error) {
	if g.now == nil {
		g.now = time.Now
	}
	missing, err := g.missing(ctx)
	if err != nil {
		return nil, err
	}
	if len(missing) == 0 {
		return g.build(ctx)
	}
	g.log.LogAttrs(ctx, slog.LevelError, "secret has no value yet; answering "+ReasonNotConfigured+" until it has one",
		slog.String("secret", strings.Join(missing, ", ")), slog.Duration("recheck_every", g.retry))
	g.next = g.now().Add(g.retry)
	return g, nil
}

// missing lists the secrets without a value. The secrets are read at once,
// not one after the other: at start each read is a round trip to the
// secret store, and a cold start waits for the slowest, not their sum.
func (g *awaitSecrets) missing(ctx context.Context) ([]string, error) {
	names := append(append([]string(nil), g.required...), g.anyOf...)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { _, errs[i] = g.src.Get(ctx, name) })
	}
	wg.Wait()
	has := func(i int) (bool, error) {
		switch err := errs[i]; {
		case err == nil:
			return true, nil
		case unset(err):
			return false, nil
		default:
			return false, fmt.Errorf("config: cannot read secret %s: %w", names[i], err)
		}
	}
	var missing []string
	for i, name := range g.required {
		ok, err := has(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, name)
		}
	}
	var none []string
	for i, name := range g.anyOf {
		ok, err := has(len(g.required) + i)
		if err != nil {
			return nil, err
		}
		if ok {
			none = nil
			break
		}
		none = append(none, name)
	}
	if len(none) > 0 {
		missing = append(missing, strings.Join(none, " or "))
	}
	return missing, nil
}

func (g *awaitSecrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := g.ready.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	// One request checks again; the others are answered at once.
	if g.mu.TryLock() {
		if !g.now().Before(g.next) {
			g.next = g.now().Add(g.retry)
			g.tryAgain(r.Context())
		}
		g.mu.Unlock()
		if h := g.ready.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
	}
	g.refuse.ServeHTTP(w, r)
}

func (g *awaitSecrets) tryAgain(ctx context.Context) {
	missing, err := g.missing(ctx)
	if err == nil && len(missing) > 0 {
		return // said at start; the same line every TTL would only be noise
	}
	var h http.Handler
	if err == nil {
		h, err = g.build(ctx)
	}
	if err != nil {
		g.log.LogAttrs(ctx, slog.LevelError, "still not configured", slog.String("error", err.Error()))
		return
	}
	g.log.LogAttrs(ctx, slog.LevelInfo, "secrets have values; serving")
	g.ready.Store(&h)
}

// retryAfterSeconds is a Retry-After value: the next check is at most one
// TTL away.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))
}

// notConfiguredJSON answers 503 {"error":"not_configured",...}, the shape of
// ingest's and backfill's other refusals.
func notConfiguredJSON(retry time.Duration) http.Handler {
	body, _ := json.Marshal(map[string]string{"error": ReasonNotConfigured,
		"message": "this function's secrets have no value yet; the operator adds them (docs/deploy.md)"})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", retryAfterSeconds(retry))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(append(body, '\n'))
	})
}

// named drops the secrets a function was not configured with.
func named(names ...string) []string {
	var out []string
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// verifyNotConfigured is verify's configured failure answer, with the
// reason DFINERY shows on its dashboard.
func verifyNotConfigured(failure verify.Answer, retry time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", retryAfterSeconds(retry))
		failure.Write(w, ReasonNotConfigured)
	})
}

// whenConfigured holds back h, built without reading any secret, until
// required have values (the forwarder's and backfill's HTTP handlers, which
// would otherwise spend deliveries and runs on a key that is not there).
func whenConfigured(ctx context.Context, env *settings.Env, src secrets.Source, log *slog.Logger, h http.Handler, required ...string) (http.Handler, error) {
	ttl := secretsTTL(env)
	gate := &awaitSecrets{src: src, required: named(required...), retry: ttl, log: log,
		build: func(context.Context) (http.Handler, error) { return h, nil }, refuse: notConfiguredJSON(ttl)}
	return gate.start(ctx)
}
