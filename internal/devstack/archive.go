package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"eventrelay.dev/eventrelay/shared/archive"
	"eventrelay.dev/eventrelay/shared/archive/gcsarchive"
	"eventrelay.dev/eventrelay/shared/settings"
)

// ArchiveSub is the local stand-in for the Cloud Storage subscription the
// GCP module puts on the events topic: every message published there is
// also handed to archiveWriter, which writes the same Avro files the
// managed subscription writes, into a folder. It lives in the emulator,
// not in ingest: ingest publishes once, as in the cloud.
const ArchiveSub = "projects/" + Project + "/subscriptions/eventrelay-archive"

// Archive file limits, as the module sets the subscription's max_duration
// and max_bytes (the local stack closes files sooner by default, so a
// replay can be tried a few seconds after sending).
const (
	DefaultArchiveMaxDuration = 2 * time.Second
	archiveMaxBytes           = 10 << 20
)

// archiveSink stores one archive file of records starting at start: a
// folder's (archive.Dir) or a bucket's (gcsarchive.Bucket, on a Cloud
// Storage stand-in).
type archiveSink func(start time.Time, recs []archive.Record) error

// archiveWriter batches the events topic's messages by time and size into
// archive files.
type archiveWriter struct {
	sink        archiveSink
	maxDuration time.Duration
	log         *slog.Logger
	mu          sync.Mutex
	batch       []archive.Record
	size        int
	opened      time.Time // the batch's first message
	failures    int       // writes that failed (kept and retried)
	stop        context.CancelFunc
	done        chan struct{}
}

func startArchiveWriter(sink archiveSink, maxDuration time.Duration, log *slog.Logger) *archiveWriter {
	if maxDuration <= 0 {
		maxDuration = DefaultArchiveMaxDuration
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &archiveWriter{sink: sink, maxDuration: maxDuration, log: log, stop: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// add takes published messages with their ids and publish time.
func (w *archiveWriter) add(msgs []*pubsubpb.PubsubMessage, ids []string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.batch) == 0 {
		w.opened = at
	}
	for i, m := range msgs {
		w.batch = append(w.batch, archive.Record{Subscription: ArchiveSub, MessageID: ids[i], PublishTime: at,
			Attributes: maps.Clone(m.Attributes), Data: m.Data})
		w.size += len(m.Data)
	}
	if w.size >= archiveMaxBytes {
		w.flushLocked()
	}
}

func (w *archiveWriter) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.maxDuration / 4)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.mu.Lock()
			if len(w.batch) > 0 && time.Since(w.opened) >= w.maxDuration {
				w.flushLocked()
			}
			w.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// flushLocked writes the batch as one file named by its start; a failed
// write keeps the batch for the next try, as the subscription keeps
// unacknowledged messages.
func (w *archiveWriter) flushLocked() {
	if err := w.sink(w.opened, w.batch); err != nil {
		w.failures++
		w.log.Error("archive write failed; kept for the next try", "error", err.Error(), "messages", len(w.batch))
		return
	}
	w.batch, w.size = nil, 0
}

// Close writes what is held and stops.
func (w *archiveWriter) Close() error {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.batch) > 0 {
		w.flushLocked()
	}
	return nil
}

// Flush writes what is held now (tests, and a stop).
func (w *archiveWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.batch) > 0 {
		w.flushLocked()
	}
}

// archiveSink opens where the archive's files go and names it in env as
// BACKFILL_ARCHIVE: cfg's bucket on the Cloud Storage stand-in, cfg's
// folder, or a temporary folder removed at Close.
func (st *Stack) archiveSink(ctx context.Context, cfg Config, env map[string]string) (archiveSink, error) {
	if cfg.ArchiveBucket != "" {
		host := settings.StorageEmulatorHost.Get(settings.FromMap(env))
		if host == "" {
			return nil, errors.New("an archive bucket needs STORAGE_EMULATOR_HOST (a Cloud Storage stand-in): the local stack writes to no real bucket")
		}
		b, err := gcsarchive.Open(ctx, cfg.ArchiveBucket, gcsarchive.EmulatorOptions(host)...)
		if err != nil {
			return nil, fmt.Errorf("archive bucket: %w", err)
		}
		st.closers = append(st.closers, b.Close)
		st.Archive, env["BACKFILL_ARCHIVE"] = cfg.ArchiveBucket, cfg.ArchiveBucket
		return func(start time.Time, recs []archive.Record) error {
			_, err := b.Write(context.Background(), start, recs)
			return err
		}, nil
	}
	dir := cfg.ArchiveDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "eventrelay-archive-"); err != nil {
			return nil, err
		}
		st.closers = append(st.closers, func() error { return os.RemoveAll(dir) })
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive folder: %w", err)
	}
	st.Archive, env["BACKFILL_ARCHIVE"] = dir, dir
	return func(start time.Time, recs []archive.Record) error {
		_, err := archive.Dir{Root: dir}.Write(start, recs)
		return err
	}, nil
}
