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
	cloudeventsclient "github.com/cloudevents/sdk-go/v2/client"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"eventrelay.dev/eventrelay/functions/forwarder/eventarc"
	"eventrelay.dev/eventrelay/internal/httpserver"
	"eventrelay.dev/eventrelay/internal/setup"
	_ "eventrelay.dev/eventrelay/internal/wiring/gcp" // this entry runs on Google Cloud
	"eventrelay.dev/eventrelay/shared/settings"
)

// Entry point names, as Terraform's entry_point names them.
const (
	EntryIngest       = "Ingest"
	EntryForward      = "Forward"      // Pub/Sub push subscription (HTTP)
	EntryForwardEvent = "ForwardEvent" // Eventarc Pub/Sub trigger (CloudEvent)
	EntryVerify       = "Verify"
	EntryBackfill     = "Backfill" // Cloud Scheduler (OIDC) or an operator (HTTP)
)

// handlers are the HTTP entry points; `eventrelay serve` runs one behind
// its own server limits, the Functions Framework with a read deadline.
var (
	handlers       = map[string]http.Handler{}
	forwardEventFn func() (*setup.Forwarder, error)
)

func init() {
	// The Functions Framework's server sets no timeouts; each request gets
	// its own read deadline, so a slow body is cut and answered 408.
	limitsEnv := settings.FromOS()
	read := settings.HTTPReadTimeout.Get(limitsEnv)
	if err := limitsEnv.Err(); err != nil && settings.FunctionTarget.Get(limitsEnv) != "" {
		fmt.Fprintf(os.Stderr, "eventrelay: %v\n", err)
		os.Exit(1)
	}
	ingest := lazy(EntryIngest, setup.Ingest)
	forward := lazy(EntryForward, setup.NewForwarder)
	forwardEvent := lazy(EntryForwardEvent, setup.NewForwarder)
	forwardEventFn = forwardEvent
	verify := lazy(EntryVerify, setup.Verify)
	backfill := lazy(EntryBackfill, setup.NewBackfill)

	handlers[EntryIngest] = serveHTTP(ingest, func(f *setup.Function) http.Handler { return f.Handler })
	handlers[EntryForward] = serveHTTP(forward, func(f *setup.Forwarder) http.Handler { return f.Handler })
	handlers[EntryVerify] = serveHTTP(verify, func(f *setup.Function) http.Handler { return f.Handler })
	handlers[EntryBackfill] = serveHTTP(backfill, func(f *setup.Backfill) http.Handler { return f.Handler })
	for name, h := range handlers {
		functions.HTTP(name, httpserver.CutSlowBodies(h, read).ServeHTTP)
	}
	functions.CloudEvent(EntryForwardEvent, handleForwardEvent(forwardEvent))
}

func handleForwardEvent(get func() (*setup.Forwarder, error)) func(context.Context, cloudevents.Event) error {
	return func(ctx context.Context, e cloudevents.Event) error {
		f, err := get()
		if err != nil {
			return err
		}
		return eventarc.Handle(ctx, f.Core, e)
	}
}

// Handler is the entry point target as an HTTP handler, as the Functions
// Framework serves it: HTTP functions as registered, ForwardEvent through
// the CloudEvents SDK's HTTP binding (binary and structured mode).
func Handler(target string) (http.Handler, error) {
	if h, ok := handlers[target]; ok {
		return h, nil
	}
	if target != EntryForwardEvent {
		return nil, fmt.Errorf("no function %q: one of %s, %s, %s, %s, %s", target,
			EntryIngest, EntryForward, EntryForwardEvent, EntryVerify, EntryBackfill)
	}
	p, err := cehttp.New()
	if err != nil {
		return nil, err
	}
	return cloudeventsclient.NewHTTPReceiveHandler(context.Background(), p, handleForwardEvent(forwardEventFn))
}

// lazy builds a function once. When this instance serves it (FUNCTION_TARGET
// names it) it is built at start, so a bad setting stops the start with one
// clear line; otherwise, as in tests importing this package for another
// function, on first use.
func lazy[T any](name string, build func(context.Context, *settings.Env, setup.Options) (T, error)) func() (T, error) {
	var once sync.Once
	var fn T
	var err error
	get := func() (T, error) {
		once.Do(func() { fn, err = build(context.Background(), settings.FromOS(), setup.Options{}) })
		return fn, err
	}
	if settings.FunctionTarget.Get(settings.FromOS()) == name {
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
