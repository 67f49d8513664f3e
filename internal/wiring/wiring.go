// Package wiring is where each cloud's clients plug into setup. A cloud
// package (internal/wiring/gcp, internal/wiring/aws) registers its backends
// in its init; setup picks among those registered by QUEUE_BACKEND,
// SECRETS_BACKEND, LEDGER_BACKEND and BACKFILL_ARCHIVE's URL scheme. So a
// binary carries only the clouds it imports: the Cloud Functions entry
// (module root) imports gcp, the Lambda bootstrap aws, the local tool and
// the tests both.
package wiring

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/functions/forwarder"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/catalog"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Closer releases a client; NoClose is the one for clients without one.
type Closer = func() error

// NoClose closes nothing.
func NoClose() error { return nil }

// queueCheckTimeout bounds the existence check at start.
const queueCheckTimeout = 10 * time.Second

// CheckQueue asks the queue once whether the topic or queue that setting s
// names exists and may be published to, and records a permanent failure on
// env, so that the start stops with one line naming the setting. A
// transient failure (the service did not answer in time) does not stop the
// start: publishes will answer 503 until it does.
func CheckQueue(ctx context.Context, env *settings.Env, s settings.Setting, c interface{ Check(context.Context) error }) bool {
	ctx, cancel := context.WithTimeout(ctx, queueCheckTimeout)
	defer cancel()
	if err := c.Check(ctx); err != nil && !queue.Transient(err) {
		env.Fail(s, "the queue refuses it: %v", err)
		return false
	}
	return true
}

// Queue is a QUEUE_BACKEND. Each opener records bad settings on env (the
// caller checks env.Err()) and returns nil then.
type Queue struct {
	Name string // pubsub, sqs
	// Publisher opens the events or the dead-letter queue: topic is the
	// setting holding a Pub/Sub topic, url an SQS queue URL.
	Publisher func(ctx context.Context, env *settings.Env, topic, url *settings.String) (queue.Publisher, Closer)
	// BackfillSource opens what backfill drains and, where the queue can
	// replay, the seeker replay_from uses (nil otherwise).
	BackfillSource func(ctx context.Context, env *settings.Env) (backfill.Source, backfill.Seeker, Closer)
	// Visibility is what the forwarder's backoff rides on, nil where the
	// queue spaces redeliveries itself (Pub/Sub's retry policy). May be nil.
	Visibility func(ctx context.Context, env *settings.Env) forwarder.VisibilityChanger
}

// Secrets is a SECRETS_BACKEND: Open returns the uncached store (setup
// caches it), or nil with the problem recorded on env.
type Secrets struct {
	Name string // gcp, aws
	Open func(ctx context.Context, env *settings.Env) (secrets.Source, Closer)
}

// Ledger is a LEDGER_BACKEND: Open returns the store, or nil with the
// problem recorded on env.
type Ledger struct {
	Name string // firestore, dynamodb
	Open func(ctx context.Context, env *settings.Env) (ledger.Store, Closer)
}

// Catalog is a CATALOG_BACKEND kept in a cloud store: Open returns the
// read-only item source, or nil with the problem recorded on env.
type Catalog struct {
	Name string // firestore, dynamodb
	Open func(ctx context.Context, env *settings.Env, log *slog.Logger) (catalog.Source, Closer)
}

// Archive is a BACKFILL_ARCHIVE in a cloud's object store, named by its
// URL's scheme (gs://bucket/prefix): Open returns the reader, or nil with
// the problem recorded on env.
type Archive struct {
	Scheme string // gs
	Open   func(ctx context.Context, env *settings.Env, url string) (archive.Reader, Closer)
}

var reg struct {
	sync.Mutex
	queues   map[string]Queue
	secrets  map[string]Secrets
	ledgers  map[string]Ledger
	catalogs map[string]Catalog
	archives map[string]Archive
}

// RegisterQueue, RegisterSecrets and RegisterLedger are called from the
// cloud packages' init.
func RegisterQueue(q Queue) { register(&reg.queues, q.Name, q) }

// RegisterSecrets registers a SECRETS_BACKEND.
func RegisterSecrets(s Secrets) { register(&reg.secrets, s.Name, s) }

// RegisterLedger registers a LEDGER_BACKEND.
func RegisterLedger(l Ledger) { register(&reg.ledgers, l.Name, l) }

// RegisterCatalog registers a CATALOG_BACKEND.
func RegisterCatalog(c Catalog) { register(&reg.catalogs, c.Name, c) }

// RegisterArchive registers a BACKFILL_ARCHIVE URL scheme.
func RegisterArchive(a Archive) { register(&reg.archives, a.Scheme, a) }

func register[T any](m *map[string]T, name string, v T) {
	reg.Lock()
	defer reg.Unlock()
	if *m == nil {
		*m = map[string]T{}
	}
	(*m)[name] = v
}

// LookupQueue, LookupSecrets and LookupLedger return a registered backend.
func LookupQueue(name string) (Queue, bool) { return lookup(reg.queues, name) }

// LookupSecrets returns a registered SECRETS_BACKEND.
func LookupSecrets(name string) (Secrets, bool) { return lookup(reg.secrets, name) }

// LookupLedger returns a registered LEDGER_BACKEND.
func LookupLedger(name string) (Ledger, bool) { return lookup(reg.ledgers, name) }

// LookupCatalog returns a registered CATALOG_BACKEND.
func LookupCatalog(name string) (Catalog, bool) { return lookup(reg.catalogs, name) }

// LookupArchive returns the archive reader registered for a URL scheme.
func LookupArchive(scheme string) (Archive, bool) { return lookup(reg.archives, scheme) }

func lookup[T any](m map[string]T, name string) (T, bool) {
	reg.Lock()
	defer reg.Unlock()
	v, ok := m[name]
	return v, ok
}

// Linked names the backends this binary carries, for an error that says
// why a configured one is missing.
func Linked() []string {
	reg.Lock()
	defer reg.Unlock()
	var names []string
	for n := range reg.queues {
		names = append(names, n)
	}
	for n := range reg.secrets {
		names = append(names, "secrets "+n)
	}
	for n := range reg.ledgers {
		names = append(names, n)
	}
	for n := range reg.catalogs {
		names = append(names, "catalog "+n)
	}
	for n := range reg.archives {
		names = append(names, "archive "+n+"://")
	}
	slices.Sort(names)
	return names
}
