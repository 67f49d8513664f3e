// Package eventrelay is the Cloud Functions (gen2) entry package. Google's Go
// buildpack generates a main that imports this module-root package and starts
// the Functions Framework; init registers every function here, and each
// deployed function's entry_point picks one of them by name.
package eventrelay

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"eventrelay.dev/eventrelay/functions/forwarder/eventarc"
	"eventrelay.dev/eventrelay/internal/setup"
	_ "eventrelay.dev/eventrelay/internal/wiring/gcp" // this entry runs on Google Cloud
	"eventrelay.dev/eventrelay/shared/config"
)

// Entry point names, as Terraform's entry_point names them.
const (
	EntryIngest       = "Ingest"
	EntryForward      = "Forward"      // Pub/Sub push subscription (HTTP)
	EntryForwardEvent = "ForwardEvent" // Eventarc Pub/Sub trigger (CloudEvent)
	EntryVerify       = "Verify"
	EntryBackfill     = "Backfill" // Cloud Scheduler (OIDC) or an operator (HTTP)
)

func init() {
	ingest := lazy(EntryIngest, setup.Ingest)
	forward := lazy(EntryForward, setup.NewForwarder)
	forwardEvent := lazy(EntryForwardEvent, setup.NewForwarder)
	verify := lazy(EntryVerify, setup.Verify)
	backfill := lazy(EntryBackfill, setup.NewBackfill)

	functions.HTTP(EntryIngest, serveHTTP(ingest, func(f *setup.Function) http.Handler { return f.Handler }))
	functions.HTTP(EntryForward, serveHTTP(forward, func(f *setup.Forwarder) http.Handler { return f.Handler }))
	functions.HTTP(EntryVerify, serveHTTP(verify, func(f *setup.Function) http.Handler { return f.Handler }))
	functions.HTTP(EntryBackfill, serveHTTP(backfill, func(f *setup.Backfill) http.Handler { return f.Handler }))
	functions.CloudEvent(EntryForwardEvent, func(ctx context.Context, e cloudevents.Event) error {
		f, err := forwardEvent()
		if err != nil {
			return err
		}
		return eventarc.Handle(ctx, f.Core, e)
	})
}

// lazy builds a function once. When this instance serves it (FUNCTION_TARGET
// names it) it is built at start, so a bad setting stops the start with one
// clear line; otherwise, as in tests importing this package for another
// function, on first use.
func lazy[T any](name string, build func(context.Context, *config.Env, setup.Options) (T, error)) func() (T, error) {
	var once sync.Once
	var fn T
	var err error
	get := func() (T, error) {
		once.Do(func() { fn, err = build(context.Background(), config.FromOS(), setup.Options{}) })
		return fn, err
	}
	if os.Getenv("FUNCTION_TARGET") == name {
		if _, err := get(); err != nil {
			fmt.Fprintf(os.Stderr, "eventrelay %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	return get
}

func serveHTTP[T any](get func() (T, error), handler func(T) http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fn, err := get()
		if err != nil {
			http.Error(w, "function not configured", http.StatusInternalServerError)
			return
		}
		handler(fn).ServeHTTP(w, r)
	}
}
