// Command ingest-alone serves the ingest function without the rest of the
// pipeline, for load measurements (make bench-load MODE=emulator|discard). It
// is built by setup.Ingest as `eventrelay dev` builds it, with the local
// stack's API key, the same anonymisation and an in-memory ledger; only the
// queue differs:
//
//	-queue pubsub   the real Pub/Sub client publishing over loopback gRPC to
//	                the emulator at $PUBSUB_EMULATOR_HOST, a process of its
//	                own (Google's emulator, or internal/benchload/pstest-
//	                server), so its CPU is not ingest's; the topic has no
//	                subscription, so nothing is delivered (what a
//	                gateway-only peer does: accept, not deliver)
//	-queue discard  a publisher that acknowledges and drops: the handler and
//	                the HTTP server alone
//
// The in-memory ledger keeps the newest -ledger-entries (1,000) entries:
// it is written for every event as a deployed ledger is, but a deployed
// ingest's ledger is Firestore or DynamoDB, not its own heap. With
// MemoryMaxEntries (up to 40,000, some 25 MB live) the heap ran into the
// GOMEMLIMIT the Terraform modules set, and the GC ran by the limit, which
// a deployed ingest does not (batches: 18.0 and 19.1 us per event against
// 15.1 and 15.0, interleaved).
//
// -handler floor serves, instead of ingest, what any gateway on this design
// does at the least: the same HTTP server and limits, the body read, one
// message per request carrying the body and ingest's three attributes
// published on the same -queue and waited for, and an answer of the size of
// ingest's 202. No authentication, parsing, validation, anonymisation,
// ledger or log line: its CPU per request is the part of ingest's that
// net/http, the Pub/Sub client and the kernel's sockets take, so ingest's
// own share is the difference (make bench-load MODE=floor).
//
// It is a measuring tool, not a product entry point.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eventrelay.dev/eventrelay/internal/cpuprofile"
	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/httpserver"
	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/logging"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/queue/pubsubqueue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingest-alone:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address (loopback)")
	level := flag.String("log-level", "info", "debug, info, warn or error")
	queueKind := flag.String("queue", "discard", "pubsub (the emulator at $PUBSUB_EMULATOR_HOST) or discard")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	handlerKind := flag.String("handler", "ingest", "ingest, or floor (see the package doc)")
	ledgerEntries := flag.Int("ledger-entries", 1000, "the newest entries the in-memory ledger keeps (0: ledger.MemoryMaxEntries)")
	flag.Parse()
	log, err := logging.New(os.Stderr, *level)
	if err != nil {
		return err
	}
	id, secret, _ := strings.Cut(devstack.DevAPIKey, ".")
	keys, err := jsonKeys(auth.APIKeyFile{Keys: []auth.APIKey{
		auth.HashAPIKey(id, devstack.DevSource, secret, []byte("local-dev-salt-0"))}})
	if err != nil {
		return err
	}
	src := secrets.NewMemory(map[string]string{"api-keys": keys, "pii-salt": "local-development-pii-salt"})
	env := settings.FromMap(map[string]string{
		"INGEST_API_KEYS_SECRET": "api-keys",
		"PII_SALT_SECRET":        "pii-salt",
		"INGEST_DEDUPE_WINDOW":   "0", // as bench-load runs the stack: hey repeats one body
	})
	stopProfile, err := cpuprofile.Start(*cpuProfile)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var pub queue.Publisher
	switch *queueKind {
	case "discard":
		pub = queue.Discard{}
	case "pubsub":
		if settings.PubSubEmulatorHost.Get(settings.FromOS()) == "" {
			return errors.New("-queue pubsub needs PUBSUB_EMULATOR_HOST (loopback only)")
		}
		client, err := pubsub.NewClient(ctx, "eventrelay-local")
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, client.Close()) }()
		// The emulator may have it from an earlier start (bench-load's timed
		// starts share one emulator).
		if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil && status.Code(err) != codes.AlreadyExists {
			return err
		}
		p := pubsubqueue.New(client, topic)
		defer func() { err = errors.Join(err, p.Close()) }()
		pub = p
	default:
		return fmt.Errorf("-queue %q: want pubsub or discard", *queueKind)
	}
	var handler http.Handler
	switch *handlerKind {
	case "floor":
		handler = floor(pub)
	case "ingest":
		led := ledger.NewMemory(nil)
		if *ledgerEntries > 0 {
			led.WithMaxEntries(*ledgerEntries)
		}
		fn, err := setup.Ingest(ctx, env, setup.Options{Secrets: src, Publisher: pub, Ledger: led, Logger: log})
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, fn.Close()) }()
		handler = fn.Handler
	default:
		return fmt.Errorf("-handler %q: want ingest or floor", *handlerKind)
	}
	srv := httpserver.New(handler, httpserver.Defaults())
	srv.Addr = *addr
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floor is the -handler floor: read, publish as one message, answer.
func floor(pub queue.Publisher) http.Handler {
	answer := []byte(`{"accepted":[{"index":0,"id":"evt-single"}],"duplicates":[],"rejected":[]}` + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg := queue.Message{ID: "evt-single", Body: body, Attributes: map[string]string{
			queue.AttrEventID: "evt-single", queue.AttrEventType: "PURCHASE", queue.AttrSource: devstack.DevSource}}
		if err := pub.Publish(r.Context(), []queue.Message{msg})[0]; err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusAccepted)
		w.Write(answer)
	})
}

const topic = "projects/eventrelay-local/topics/eventrelay-events"

func jsonKeys(f auth.APIKeyFile) (string, error) {
	b, err := json.Marshal(f)
	return string(b), err
}
