package setup

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/functions/ingest"
	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/clientip"
	"eventrelay.dev/eventrelay/shared/keyedlimit"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
	"eventrelay.dev/eventrelay/shared/suppress"
)

// governance is the data-governance settings (docs/data-governance.md).
type governance struct {
	consent    ingest.ConsentPolicy
	missCache  time.Duration
	keySecret  string // ERASE_KEYS_SECRET; empty: no erase route
	retention  time.Duration
	clientIP   clientip.Resolver // who calls /erase, for its per-address budget
	retryAfter time.Duration     // advised with /erase's 503: ingest's INGEST_RETRY_AFTER
}

// readGovernance reads the settings; consent and the erase route are
// ingest's (withIngest), the suppression cache everyone's.
func readGovernance(env *settings.Env, withIngest bool) governance {
	g := governance{missCache: settings.SuppressionCache.Get(env)}
	if !withIngest {
		return g
	}
	g.retryAfter = settings.IngestRetryAfter.Get(env)
	g.consent.DenyByDefault = settings.ConsentDefault.Get(env) == "denied"
	for _, pair := range settings.ConsentSources.Get(env) {
		source, value, ok := strings.Cut(pair, "=")
		source, value = strings.TrimSpace(source), strings.TrimSpace(value)
		if !ok || source == "" || (value != "granted" && value != "denied") {
			env.Fail(settings.ConsentSources, "%q is not <source>=granted or <source>=denied", pair)
			continue
		}
		if g.consent.Sources == nil {
			g.consent.Sources = map[string]bool{}
		}
		g.consent.Sources[source] = value == "granted"
	}
	g.keySecret = settings.EraseKeysSecret.Get(env)
	g.retention = settings.EraseRetention.Get(env)
	g.clientIP = ingestClientIP(env)
	return g
}

// checker is the erasure-list look-up on the function's ledger backend,
// nil without one (LEDGER_BACKEND=none: nothing can be erased, nothing is
// suppressed).
func (g governance) checker(store ledger.Store) *suppress.Checker {
	s, ok := store.(ledger.Suppressions)
	if !ok {
		return nil
	}
	return suppress.NewChecker(s, g.missCache, nil)
}

// ingestSuppressions is c as ingest's dependency (a nil *Checker must not
// become a non-nil interface).
func ingestSuppressions(c *suppress.Checker) ingest.Suppressions {
	if c == nil {
		return nil
	}
	return c
}

var errEraseWithoutLedger = errors.New("config: ERASE_KEYS_SECRET: erasure needs a ledger backend (LEDGER_BACKEND firestore or dynamodb), where the suppressions live")

// checkErase fails the start when erasure is asked for without a ledger.
func (g governance) checkErase(store ledger.Store) error {
	if _, ok := store.(ledger.Eraser); g.keySecret != "" && !ok {
		return errEraseWithoutLedger
	}
	return nil
}

// withErase serves POST /erase beside ingest when ERASE_KEYS_SECRET is
// set; every other path is ingest's. The keys are read per request (through
// the secret cache), not at start: the secret is created empty, and ingest
// must serve events before an operator adds the first erase key (until
// then /erase answers 503).
func (g governance) withErase(svc http.Handler, store ledger.Store, anon *pii.Anonymiser, src secrets.Source,
	local *suppress.Checker, log *slog.Logger) (http.Handler, error) {
	if g.keySecret == "" {
		return svc, nil
	}
	eraser, ok := store.(ledger.Eraser)
	if !ok {
		return nil, errEraseWithoutLedger
	}
	keys := func(ctx context.Context) ([]string, error) {
		b, err := src.Get(ctx, g.keySecret)
		if err != nil {
			return nil, err
		}
		return erase.ParseKeys(b)
	}
	// Ten requests a minute per address and instance: an operator erases
	// a few people at a time; a key guesser gets no further.
	perAddress := keyedlimit.New(10, 10, 10_000, nil)
	es, err := erase.New(erase.Deps{Store: eraser, Anonymiser: anon, Keys: keys, Retention: g.retention,
		RetryAfter: g.retryAfter, Local: local, Logger: log, // ingest's logger: the route is ingest's
		Allow: func(r *http.Request) bool { return perAddress.Allow(g.clientIP.Key(r)) }})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(erase.Path, es)
	mux.Handle("/", svc)
	return mux, nil
}

// suppressionsOf opens the ledger backend (LEDGER_BACKEND, default none)
// for the forwarder's and backfill's erasure-list look-ups: nil without
// one.
func suppressionsOf(ctx context.Context, env *settings.Env, opt Options) (*suppress.Checker, func() error) {
	store, closeLedger := ledgerStore(ctx, env, opt)
	return readGovernance(env, false).checker(store), closeLedger
}

func forwarderSuppressions(c *suppress.Checker) forwarder.Suppressions {
	if c == nil {
		return nil
	}
	return c
}

// catalogEnricher opens the item catalog named by CATALOG_BACKEND (none,
// file, firestore, dynamodb; default none) behind its per-instance cache.
func catalogEnricher(ctx context.Context, env *settings.Env, log *slog.Logger) (ingest.Catalog, func() error) {
	cfg := catalog.Config{
		CatalogWins: settings.CatalogPrecedence.Get(env) == "catalog",
		Cache:       settings.CatalogCache.Get(env),
	}
	log = log.With("function", "ingest")
	var src catalog.Source
	closeFn := noClose
	backend := settings.CatalogBackend.Get(env)
	switch backend {
	case "file":
		path := settings.CatalogFile.Require(env)
		if path == "" {
			return nil, noClose
		}
		f, err := catalog.LoadFile(path, log)
		if err != nil {
			env.Fail(settings.CatalogFile, "%v", err)
			return nil, noClose
		}
		src = f
	case "firestore", "dynamodb":
		// Cloud stores come from the binary's wiring package, so each
		// binary links only its own cloud's client.
		c, ok := wiring.LookupCatalog(backend)
		if !ok {
			notLinked(env, settings.CatalogBackend, backend)
			return nil, noClose
		}
		if src, closeFn = c.Open(ctx, env, log); src == nil {
			return nil, noClose
		}
	default:
		return nil, noClose
	}
	return catalog.New(cfg, src, log, nil), closeFn
}
