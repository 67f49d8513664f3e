package setup

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
	"eventrelay.dev/eventrelay/internal/wiring"
	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Backfill is the started backfill function: the core, and its HTTP
// handler (Handler) for Cloud Scheduler and operators.
type Backfill struct {
	*Function
	Core *backfill.Backfill
}

// NewBackfill builds the backfill function.
func NewBackfill(ctx context.Context, env *settings.Env, opt Options) (*Backfill, error) {
	timer := startTimer()
	log, err := logger(env, opt)
	if err != nil {
		return nil, err
	}
	p := platformConfig(env)
	cfg := backfill.Config{
		// Keep BACKFILL_TIME_BUDGET + MCM_TIMEOUT + a few seconds below the
		// function timeout: sends in flight finish and the last acks go out.
		Budget:  settings.BackfillTimeBudget.Get(env),
		Reserve: p.timeout + 5*time.Second,
		Rate:    float64(settings.BackfillRate.Get(env)),
		Batch:   settings.BackfillBatch.Get(env),

		ArchiveLateness: settings.BackfillArchiveLateness.Get(env),
	}
	timer.phase("config")
	src, closeSecrets := secretSource(ctx, env, opt, log)
	prefetch(ctx, src, p.keySecret)
	timer.phase("secrets_client")
	dlq, closeDLQ := deadLetterPublisher(ctx, env, opt)
	timer.phase("dead_letter_queue")
	source, seeker, closeSource := backfillSource(ctx, env)
	timer.phase("source")
	store, closeLedger := ledgerStore(ctx, env, opt)
	erased := readGovernance(env, false).checker(store)
	cursors, _ := store.(ledger.Cursors)
	timer.phase("ledger")
	archived, closeArchive := archiveReader(ctx, env)
	if err := env.Err(); err != nil {
		return nil, errors.Join(err, closeAll(closeSecrets, closeDLQ, closeSource, closeLedger, closeArchive))
	}
	f := &Function{closers: []func() error{closeSecrets, closeDLQ, closeSource, closeLedger, closeArchive}}
	client, invalidate, err := platformClient(p, src)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	deps := backfill.Deps{Source: source, Sender: client, InvalidateKey: invalidate, DeadLetter: dlq,
		Replay: seeker, Cursors: cursors, Logger: log.With("function", "backfill")}
	if archived != nil {
		deps.Archive = archived
	}
	if erased != nil { // a nil *Checker in the interface would not read as nil
		deps.Erased = erased
	}
	core, err := backfill.New(cfg, deps)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	timer.phase("platform_client")
	if f.Handler, err = whenConfigured(ctx, env, src, log.With("function", "backfill"), core.Handler(), p.keySecret); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	timer.phase("secrets")
	timer.done(ctx, log.With("function", "backfill"))
	return &Backfill{Function: f, Core: core}, nil
}

// backfillSource opens the dead-letter subscription or queue the backfill
// drains and, on Pub/Sub, the live subscription replay_from seeks.
func backfillSource(ctx context.Context, env *settings.Env) (backfill.Source, backfill.Seeker, func() error) {
	q, ok := queueBackend(env)
	if !ok {
		return nil, nil, noClose
	}
	return q.BackfillSource(ctx, env)
}

// archiveReader opens BACKFILL_ARCHIVE: a bucket URL (gs://…), read by the
// cloud package registered for its scheme, or a local folder (the local
// stack's archive); nil when unset.
func archiveReader(ctx context.Context, env *settings.Env) (archive.Reader, func() error) {
	where := settings.BackfillArchive.Get(env)
	if where == "" {
		return nil, noClose
	}
	if scheme, _, ok := strings.Cut(where, "://"); ok {
		a, ok := wiring.LookupArchive(scheme)
		if !ok {
			notLinked(env, settings.BackfillArchive, scheme+"://")
			return nil, noClose
		}
		return a.Open(ctx, env, where)
	}
	if st, err := os.Stat(where); err != nil || !st.IsDir() {
		env.Fail(settings.BackfillArchive, "%q is not a folder", where)
		return nil, noClose
	}
	return archive.Dir{Root: where}, noClose
}
