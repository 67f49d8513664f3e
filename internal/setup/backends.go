package setup

import (
	"context"
	"log/slog"
	"strings"

	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// The cloud clients come from internal/wiring, where the cloud packages a
// binary imports (internal/wiring/gcp, internal/wiring/aws) registered
// them; a backend this binary does not carry is a configuration error.

func notLinked(env *settings.Env, s settings.Setting, value string) {
	env.Fail(s, "%q is not linked into this binary (it carries: %s); import its internal/wiring package",
		value, strings.Join(wiring.Linked(), ", "))
}

// secretSource returns the cached secret store named by SECRETS_BACKEND.
// Problems are recorded on env; the caller checks env.Err().
// A refresh that fails while a cached value is still served is logged on
// log (a WARN naming the secret, never its value).
func secretSource(ctx context.Context, env *settings.Env, opt Options, log *slog.Logger) (secrets.Source, func() error) {
	ttl := settings.SecretsCacheTTL.Get(env)
	if opt.Secrets != nil {
		return opt.Secrets, noClose
	}
	name := settings.SecretsBackend.Get(env)
	if name == "" {
		return nil, noClose
	}
	b, ok := wiring.LookupSecrets(name)
	if !ok {
		notLinked(env, settings.SecretsBackend, name)
		return nil, noClose
	}
	src, closeSrc := b.Open(ctx, env)
	if src == nil {
		return nil, closeSrc
	}
	return secrets.NewCached(src, ttl, secrets.WithLogger(log)), closeSrc
}

// queueBackend is the QUEUE_BACKEND this binary carries (false: none, or
// one it does not carry, recorded on env).
func queueBackend(env *settings.Env) (wiring.Queue, bool) {
	name := settings.QueueBackend.Get(env)
	if name == "" {
		return wiring.Queue{}, false
	}
	q, ok := wiring.LookupQueue(name)
	if !ok {
		notLinked(env, settings.QueueBackend, name)
	}
	return q, ok
}

// publisher returns the events queue named by QUEUE_BACKEND.
func publisher(ctx context.Context, env *settings.Env, opt Options) (queue.Publisher, func() error) {
	if opt.Publisher != nil {
		return opt.Publisher, noClose
	}
	return openPublisher(ctx, env, settings.PubSubTopic, settings.SQSQueueURL)
}

// deadLetterPublisher returns the dead-letter topic or queue.
func deadLetterPublisher(ctx context.Context, env *settings.Env, opt Options) (queue.Publisher, func() error) {
	if opt.DeadLetter != nil {
		return opt.DeadLetter, noClose
	}
	return openPublisher(ctx, env, settings.DeadLetterTopic, settings.DeadLetterQueueURL)
}

func openPublisher(ctx context.Context, env *settings.Env, topic, url *settings.String) (queue.Publisher, func() error) {
	q, ok := queueBackend(env)
	if !ok {
		return nil, noClose
	}
	return q.Publisher(ctx, env, topic, url)
}

// ledgerStore returns the ledger named by LEDGER_BACKEND (none: nil).
func ledgerStore(ctx context.Context, env *settings.Env, opt Options) (ledger.Store, func() error) {
	if opt.Ledger != nil {
		return opt.Ledger, noClose
	}
	name := settings.LedgerBackend.Get(env)
	if name == "" || name == "none" {
		return nil, noClose
	}
	l, ok := wiring.LookupLedger(name)
	if !ok {
		notLinked(env, settings.LedgerBackend, name)
		return nil, noClose
	}
	return l.Open(ctx, env)
}

// prefetch starts reading the named secrets into src's cache while the rest
// of the start goes on (clients built, queue checked): the gate's own reads
// then find the values there, or join the read in flight, so a cold start
// waits for the secret store and the queue at once rather than in turn. A
// failed read is not kept: the gate reads again and reports it.
func prefetch(ctx context.Context, src secrets.Source, names ...string) {
	c, ok := src.(*secrets.Cached)
	if !ok {
		return // an uncached source would read twice
	}
	for _, name := range named(names...) {
		// A failed read is not kept (above): the gate reads it again.
		go func() { _, _ = c.Get(ctx, name) }()
	}
}
