package setup

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/functions/backfill"
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
	archived := archiveReader(env)
	if err := env.Err(); err != nil {
		return nil, errors.Join(err, closeAll(closeSecrets, closeDLQ, closeSource, closeLedger))
	}
	f := &Function{closers: []func() error{closeSecrets, closeDLQ, closeSource, closeLedger}}
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

// archiveReader opens BACKFILL_ARCHIVE: a local folder (the local stack's
// archive); nil when unset.
func archiveReader(env *settings.Env) archive.Reader {
	where := settings.BackfillArchive.Get(env)
	switch {
	case where == "":
		return nil
	case strings.Contains(where, "://"):
		env.Fail(settings.BackfillArchive, "%q: only a local folder is read so far (a bucket's reader is not built yet)", where)
		return nil
	}
	if st, err := os.Stat(where); err != nil || !st.IsDir() {
		env.Fail(settings.BackfillArchive, "%q is not a folder", where)
		return nil
	}
	return archive.Dir{Root: where}
}
