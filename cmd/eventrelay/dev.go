package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"eventrelay.dev/eventrelay/internal/cpuprofile"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/shared/logging"
)

func runDev(args []string) (err error) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	ingestAddr := fs.String("ingest", "127.0.0.1:8080", "ingest listen address")
	pubsubAddr := fs.String("pubsub", "127.0.0.1:8085", "Pub/Sub emulator listen address")
	adminAddr := fs.String("admin", devstack.DefaultAdminAddr, "counters listen address")
	backfillAddr := fs.String("backfill", devstack.DefaultBackfillAddr, "backfill listen address")
	verifyAddr := fs.String("verify", devstack.DefaultVerifyAddr, "verify listen address")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	backfillEvery := fs.Duration("backfill-every", 5*time.Minute, "run the backfill (retryable dead letters) this often, as the cloud's scheduler does; 0: never")
	archiveDir := fs.String("archive-dir", "", "where the archive of every accepted event is written (the Cloud Storage subscription's stand-in); default: a temporary folder removed at stop")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this `file` (for load measurements)")
	env := map[string]string{}
	fs.Func("set", "override a function setting, `NAME=VALUE` (repeatable), e.g. -set INGEST_DEDUPE_WINDOW=0", func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q is not NAME=VALUE", kv)
		}
		env[k] = v
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The functions log a line or two per event; under load one write(2)
	// per line costs more than the line, so lines go out in batches, at
	// most a tenth of a second late.
	logs := newBatchedWriter(os.Stderr, 100*time.Millisecond)
	defer func() { err = errors.Join(err, logs.Close()) }()
	log, err := logging.New(logs, *logLevel)
	if err != nil {
		return err
	}
	stopProfile, err := cpuprofile.Start(*cpuProfile)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := devstack.Start(ctx, devstack.Config{IngestAddr: *ingestAddr, PubSubAddr: *pubsubAddr,
		AdminAddr: *adminAddr, BackfillAddr: *backfillAddr, VerifyAddr: *verifyAddr, Logger: log, Env: env, BackfillEvery: *backfillEvery,
		ArchiveDir: *archiveDir, Progress: func(step string) { fmt.Println("starting " + step + " …") }})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	serveEnv := filepath.Join(os.TempDir(), "eventrelay-dev-serve.env")
	if err := st.WriteServeEnv("Verify", serveEnv); err != nil {
		return err
	}
	// {cli} is the CLI as make dev built it: the commands shown run it
	// as they are, without compiling it again.
	banner := strings.ReplaceAll(`eventrelay is running locally (Ctrl-C stops it)

  ingest              %s
  forwarder (push)    %s
  verify              %s
  backfill            %s   (every %s; {cli} backfill -dry-run)
  Events API stand-in %s   (strict; faults: PUT %s/_sink/faults)
  counters            %s   (or: {cli} counters)
  Pub/Sub emulator    %s   (PUBSUB_EMULATOR_HOST=%s)
  Secret Manager stand-in %s   (SECRETMANAGER_EMULATOR_HOST=%s, SECRETS_BACKEND=gcp)
  ledger              %s
  API key             %s   (local only)
  DFINERY key         %s   (local only)
  erase key           %s   (local only: {cli} erase -key … -user …)
  app attestation     {cli} attest -platform ios   (or android; source local-app, policy require)

Try a purchase:
  curl -sS %s -H 'Content-Type: application/json' -H 'X-Api-Key: %s' \
    -d '%s'

then DFINERY's verification callback for it (200; the same again, as a
DFINERY retry, 200 again; with another -time, a second callback for one
purchase, already_confirmed):
  %s

A function in a process of its own against this stack (here verify, on
127.0.0.1:8096): the file holds every variable "eventrelay serve" needs
(edit FUNCTION_TARGET for Ingest, Forward or Backfill):
  (set -a; . %s; {cli} serve -listen 127.0.0.1:8096)
`, "{cli}", devstack.CLI)
	fmt.Printf(banner, st.IngestURL, st.ForwarderURL, st.VerifyURL, st.BackfillURL, *backfillEvery, st.SinkURL, st.SinkURL, st.CountersURL,
		st.PubSubAddr, st.PubSubAddr, st.SecretServer.Addr, st.SecretServer.Addr, ledgerLine(st), devstack.DevAPIKey, devstack.DevDFINERYKey, devstack.DevEraseKey,
		st.IngestURL, devstack.DevAPIKey, devstack.ExampleEvent(at), devstack.ExampleCallbackCommand(st.VerifyURL, at),
		serveEnv)
	fmt.Printf("The archive of every accepted event (replay a window: %s backfill -archive -from T -to T): %s\n", devstack.CLI, st.Archive)
	<-ctx.Done()
	fmt.Println("\nstopping")
	return nil
}

// ledgerLine says where the stack's ledger is (LEDGER_BACKEND).
func ledgerLine(st *devstack.Stack) string {
	switch st.LedgerBackend {
	case "firestore":
		return "Firestore emulator " + st.LedgerAddr + "   (LEDGER_BACKEND=firestore, FIRESTORE_EMULATOR_HOST=" + st.LedgerAddr + ")"
	case "dynamodb":
		return "DynamoDB emulator " + st.LedgerAddr + "   (LEDGER_BACKEND=dynamodb, AWS_ENDPOINT_URL_DYNAMODB=" + st.LedgerAddr +
			", table " + st.Env["LEDGER_DYNAMODB_TABLE"] + ")"
	}
	return "in memory, this process only   (-set LEDGER_BACKEND=firestore or dynamodb: an emulator's)"
}

// batchedWriter buffers what is written and writes it out every interval
// (and on Close), in one system call where there was one per line.
type batchedWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	err  error // the first failed flush, which Close returns
	stop chan struct{}
	done chan struct{}
}

func newBatchedWriter(w io.Writer, interval time.Duration) *batchedWriter {
	b := &batchedWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.flush()
			case <-b.stop:
				b.flush()
				return
			}
		}
	}()
	return b
}

func (b *batchedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *batchedWriter) flush() {
	b.mu.Lock()
	if err := b.buf.Flush(); err != nil && b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
}

// Close writes out what is left, and returns the first write that failed.
func (b *batchedWriter) Close() error {
	close(b.stop)
	<-b.done
	return b.err
}
