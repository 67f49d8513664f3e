package setup

import (
	"context"
	"errors"
	"time"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Forwarder is the started forwarder: the core, the Pub/Sub push handler
// (Handler), and for SQS the visibility changer its backoff rides on.
type Forwarder struct {
	*Function
	Core        *forwarder.Forwarder
	Visibility  forwarder.VisibilityChanger
	Concurrency int
}

// NewForwarder builds the forwarder function.
func NewForwarder(ctx context.Context, env *settings.Env, opt Options) (*Forwarder, error) {
	timer := startTimer()
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	mcmCfg := platformConfig(env)
	cfg := forwarder.Config{
		MaxAttempts:      settings.ForwarderMaxAttempts.Get(env),
		FirstBackoff:     settings.ForwarderFirstBackoff.Get(env),
		MaxBackoff:       settings.ForwarderMaxBackoff.Get(env),
		BreakerThreshold: settings.ForwarderBreakerThreshold.Get(env),
		BreakerCooldown:  settings.ForwarderBreakerCooldown.Get(env),
		DeliveredWindow:  settings.ForwarderDedupeWindow.Get(env),
		// The forwarder sends again an event ingest accepted anew after
		// forgetting it, and only that (forwarder.Config.IngestWindow).
		IngestWindow: settings.IngestDedupeWindow.Get(env),
	}
	if cfg.MaxBackoff < cfg.FirstBackoff {
		env.Fail(settings.ForwarderMaxBackoff, "%s is shorter than FORWARDER_FIRST_BACKOFF (%s)", cfg.MaxBackoff, cfg.FirstBackoff)
	}
	// Sends in flight per SQS batch. An instance's throughput is this over
	// the platform's latency: at 50 ms, 16 gave ~300 events/s; 128 sends a
	// whole batch of up to 128 records at once (~2.5k events/s at 50 ms,
	// BenchmarkForwarderThroughput), within the MCM client's 256
	// connections per host.
	concurrency := settings.ForwarderConcurrency.Get(env)
	timer.phase("config")
	src, closeSecrets := secretSource(ctx, env, opt, log)
	prefetch(ctx, src, mcmCfg.keySecret)
	timer.phase("secrets_client")
	dlq, closeDLQ := deadLetterPublisher(ctx, env, opt)
	timer.phase("dead_letter_queue")
	erased, closeLedger := suppressionsOf(ctx, env, opt)
	timer.phase("ledger")
	var vis forwarder.VisibilityChanger
	if opt.Publisher == nil && settings.QueueBackend.Set(env) {
		if q, ok := queueBackend(env); ok && q.Visibility != nil {
			vis = q.Visibility(ctx, env)
		}
	}
	timer.phase("visibility_client")
	if err := env.Err(); err != nil {
		return nil, errors.Join(err, closeAll(closeSecrets, closeDLQ, closeLedger))
	}
	f := &Function{closers: []func() error{closeSecrets, closeDLQ, closeLedger}}
	client, invalidate, err := platformClient(mcmCfg, src)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	core, err := forwarder.New(cfg, forwarder.Deps{Sender: client, InvalidateKey: invalidate,
		DeadLetter: dlq, Erased: forwarderSuppressions(erased), Logger: log.With("function", "forwarder")})
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	timer.phase("platform_client")
	if f.Handler, err = whenConfigured(ctx, env, src, log.With("function", "forwarder"), core.PushHandler(), mcmCfg.keySecret); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	timer.phase("secrets")
	timer.done(ctx, log.With("function", "forwarder"))
	return &Forwarder{Function: f, Core: core, Visibility: vis, Concurrency: concurrency}, nil
}

// platform is what reaching the MCM API needs.
type platform struct {
	baseURL, platformID, keySecret string
	timeout                        time.Duration
}

func platformConfig(env *settings.Env) platform {
	return platform{
		baseURL:    settings.MCMBaseURL.Require(env),
		platformID: settings.MCMPlatformID.Require(env),
		keySecret:  settings.MCMAPIKeySecret.Require(env),
		timeout:    settings.MCMTimeout.Get(env),
	}
}

// platformClient builds the MCM client reading its key through src, and the
// function that makes the next send re-read a rotated key.
func platformClient(p platform, src secrets.Source) (*mcm.Client, delivery.KeyInvalidator, error) {
	key, invalidate := delivery.PlatformKey(src, p.keySecret)
	client, err := mcm.New(mcm.Config{BaseURL: p.baseURL, PlatformID: p.platformID, APIKey: key,
		HTTPClient: mcm.NewHTTPClient(p.timeout)})
	return client, invalidate, err
}
