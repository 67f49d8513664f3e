package setup

import (
	"context"
	"time"

	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/delivery"
	"eventrelay.dev/eventrelay/shared/mcm"
	"eventrelay.dev/eventrelay/shared/secrets"
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
func NewForwarder(ctx context.Context, env *config.Env, opt Options) (*Forwarder, error) {
	timer := startTimer()
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	mcmCfg := platformConfig(env)
	cfg := forwarder.Config{
		MaxAttempts:      env.Int("FORWARDER_MAX_ATTEMPTS", 8, 1, 100),
		FirstBackoff:     env.Duration("FORWARDER_FIRST_BACKOFF", 5*time.Second, 0, time.Hour),
		MaxBackoff:       env.Duration("FORWARDER_MAX_BACKOFF", 10*time.Minute, time.Millisecond, 12*time.Hour),
		BreakerThreshold: env.Int("FORWARDER_BREAKER_THRESHOLD", 20, 1, 10000),
		BreakerCooldown:  env.Duration("FORWARDER_BREAKER_COOLDOWN", 30*time.Second, time.Second, time.Hour),
		DeliveredWindow:  env.Duration("FORWARDER_DEDUPE_WINDOW", time.Hour, time.Minute, 48*time.Hour),
		IngestWindow:     ingestDedupeWindow(env),
	}
	// Sends in flight per SQS batch. An instance's throughput is this over
	// the platform's latency: at 50 ms, 16 gave ~300 events/s; 128 sends a
	// whole batch of up to 128 records at once (~2.5k events/s at 50 ms,
	// BenchmarkForwarderThroughput), within the MCM client's 256
	// connections per host.
	concurrency := env.Int("FORWARDER_CONCURRENCY", 128, 1, 256)
	timer.phase("config")
	src, closeSecrets := secretSource(ctx, env, opt, log)
	prefetch(ctx, src, mcmCfg.keySecret)
	timer.phase("secrets_client")
	dlq, closeDLQ := deadLetterPublisher(ctx, env, opt)
	timer.phase("dead_letter_queue")
	erased, closeLedger := suppressionsOf(ctx, env, opt)
	timer.phase("ledger")
	var vis forwarder.VisibilityChanger
	if opt.Publisher == nil && env.String("QUEUE_BACKEND", "") != "" {
		if q, ok := queueBackend(env); ok && q.Visibility != nil {
			vis = q.Visibility(ctx, env)
		}
	}
	timer.phase("visibility_client")
	if err := env.Err(); err != nil {
		closeAll(closeSecrets, closeDLQ, closeLedger)
		return nil, err
	}
	f := &Function{closers: []func() error{closeSecrets, closeDLQ, closeLedger}}
	client, invalidate, err := platformClient(mcmCfg, src)
	if err != nil {
		f.Close()
		return nil, err
	}
	core, err := forwarder.New(cfg, forwarder.Deps{Sender: client, InvalidateKey: invalidate,
		DeadLetter: dlq, Erased: forwarderSuppressions(erased), Logger: log.With("function", "forwarder")})
	if err != nil {
		f.Close()
		return nil, err
	}
	timer.phase("platform_client")
	if f.Handler, err = whenConfigured(ctx, env, src, log.With("function", "forwarder"), core.PushHandler(), mcmCfg.keySecret); err != nil {
		f.Close()
		return nil, err
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

func platformConfig(env *config.Env) platform {
	return platform{
		baseURL:    env.Required("MCM_BASE_URL", "the Events API base URL Moloco gave you, e.g. https://<name>-evt.mcm-api.moloco.com"),
		platformID: env.Required("MCM_PLATFORM_ID", "your MCM platform id (test or production)"),
		keySecret:  env.Required("MCM_API_KEY_SECRET", "name of the secret holding the platform API key"),
		timeout:    env.Duration("MCM_TIMEOUT", 10*time.Second, 100*time.Millisecond, time.Minute),
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
