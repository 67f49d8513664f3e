// Package setup builds each function from its environment: it parses and
// checks the configuration once, picks the cloud backends among those the
// binary links (internal/wiring), and hands the platform-neutral cores
// their collaborators. The GCP entry points, the Lambda bootstrap and the
// local runner all start functions through it; it imports no cloud SDK.
package setup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"eventrelay.dev/eventrelay/functions/ingest"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/cors"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/logging"
	"eventrelay.dev/eventrelay/shared/pii"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Options replace backends that would otherwise come from the environment;
// the local runner and tests use them.
type Options struct {
	Secrets    secrets.Source
	Publisher  queue.Publisher // the events queue
	DeadLetter queue.Publisher // the dead-letter queue
	Ledger     ledger.Store
	Logger     *slog.Logger
}

// Function is a started function: an HTTP handler (nil for queue-triggered
// ones) and what to close on shutdown.
type Function struct {
	Handler http.Handler
	closers []func() error
}

// Close releases the function's clients.
func (f *Function) Close() error {
	var errs []error
	for i := len(f.closers) - 1; i >= 0; i-- {
		errs = append(errs, f.closers[i]())
	}
	return errors.Join(errs...)
}

// Ingest builds the ingest function.
func Ingest(ctx context.Context, env *settings.Env, opt Options) (*Function, error) {
	timer := startTimer()
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	cfg := ingest.Config{
		Limits: ingest.Limits{
			MaxEventBytes: settings.IngestMaxEventBytes.Get(env),
			MaxBodyBytes:  settings.IngestMaxBodyBytes.Get(env),
			MaxEvents:     settings.IngestMaxEvents.Get(env),
		},
		FutureSkew:     settings.IngestFutureSkew.Get(env),
		MaxAge:         settings.IngestMaxAge.Get(env),
		PublishTimeout: settings.IngestPublishTimeout.Get(env),
		RetryAfter:     settings.IngestRetryAfter.Get(env),
		DedupeWindow:   settings.IngestDedupeWindow.Get(env),
	}
	apiKeys := settings.IngestAPIKeysSecret.Get(env)
	signingKeys := settings.IngestSigningKeysSecret.Get(env)
	if apiKeys == "" && signingKeys == "" {
		settings.IngestAPIKeysSecret.Require(env)
	}
	tolerance := settings.IngestSignatureTolerance.Get(env)
	piiCfg := readPII(env)
	gov := readGovernance(env, true)
	origins := readCORS(env)
	cfg.Consent = gov.consent
	recorded, ttl := ledgerTypes(env), ledgerTTL(env)
	cacheTTL := secretsTTL(env)
	timer.phase("config")
	src, closeSecrets := secretSource(ctx, env, opt, log)
	prefetch(ctx, src, piiCfg.saltSecret, apiKeys, signingKeys)
	timer.phase("secrets_client")
	pub, closePub := publisher(ctx, env, opt)
	timer.phase("queue")
	store, closeLedger := ledgerStore(ctx, env, opt)
	timer.phase("ledger")
	items, closeCatalog := catalogEnricher(ctx, env, log)
	timer.phase("catalog")
	if err := env.Err(); err != nil {
		return nil, errors.Join(err, closeAll(closeSecrets, closePub, closeLedger, closeCatalog))
	}
	f := &Function{closers: []func() error{closeSecrets, closePub, closeLedger, closeCatalog}}
	var recorder ingest.Recorder
	if store != nil {
		recorder = &ingest.LedgerRecorder{Store: store, Types: recorded, TTL: ttl}
	}

	att, err := readAttestation(env, store)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if err := gov.checkErase(store); err != nil {
		return nil, errors.Join(err, f.Close())
	}

	log = log.With("function", "ingest")
	checker := gov.checker(store)
	build := func(ctx context.Context) (http.Handler, error) {
		anon, err := piiCfg.anonymiser(ctx, src)
		if err != nil {
			return nil, err
		}
		a, err := att.build(ctx, src, log)
		if err != nil {
			return nil, err
		}
		authn, err := auth.New(auth.Config{Secrets: src, APIKeysSecret: apiKeys,
			SigningKeysSecret: signingKeys, Tolerance: tolerance, Attestation: a.Auth()})
		if err != nil {
			return nil, err
		}
		svc, err := ingest.New(cfg, ingest.Deps{Auth: authn, Publisher: pub, Anonymiser: anon,
			Ledger: recorder, Suppressed: ingestSuppressions(checker), Catalog: items, Logger: log})
		if err != nil {
			return nil, err
		}
		return gov.withErase(a.Mount(svc), store, anon, src, checker, log)
	}
	gate := &awaitSecrets{src: src, required: append(named(piiCfg.saltSecret), att.secrets()...), anyOf: named(apiKeys, signingKeys),
		build: build, refuse: notConfiguredJSON(cacheTTL), retry: cacheTTL, log: log}
	gated, err := gate.start(ctx)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	// Outside the gate, so a page reads a not_configured answer too.
	f.Handler = cors.Handler(origins, webRule, gated)
	timer.phase("secrets_and_handler")
	timer.done(ctx, log)
	return f, nil
}

func logger(env *settings.Env, opt Options) (*slog.Logger, error) {
	if opt.Logger != nil {
		return opt.Logger, nil
	}
	l, err := logging.New(os.Stderr, settings.LogLevel.Get(env))
	if err != nil {
		return nil, fmt.Errorf("config: LOG_LEVEL: %w", err)
	}
	return l, nil
}

// closeAll closes in order what a failed setup had opened, and returns every
// Close's error.
func closeAll(fns ...func() error) error {
	var errs []error
	for _, f := range fns {
		if f != nil {
			errs = append(errs, f())
		}
	}
	return errors.Join(errs...)
}

func noClose() error { return nil }

// piiSettings are the anonymisation settings; ingest and verify must agree
// on them, since verify hashes a callback's identifiers to find ours.
type piiSettings struct {
	fields     []string
	ip         pii.IPPolicy
	saltSecret string
}

func readPII(env *settings.Env) piiSettings {
	p := piiSettings{fields: settings.PIIHashFields.Get(env)}
	if len(p.fields) == 1 && p.fields[0] == "none" {
		p.fields = nil
	}
	p.ip = pii.IPPolicy(settings.PIIIPPolicy.Get(env))
	if len(p.fields) > 0 {
		p.saltSecret = settings.PIISaltSecret.Require(env)
	}
	return p
}

func (p piiSettings) anonymiser(ctx context.Context, src secrets.Source) (*pii.Anonymiser, error) {
	var salt []byte
	if p.saltSecret != "" {
		var err error
		if salt, err = src.Get(ctx, p.saltSecret); err != nil {
			return nil, fmt.Errorf("config: PII_SALT_SECRET: cannot read %s: %w", p.saltSecret, err)
		}
	}
	anon, err := pii.New(salt, p.fields, p.ip)
	if err != nil {
		return nil, fmt.Errorf("config: PII_HASH_FIELDS: %w", err)
	}
	return anon, nil
}
