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

	"eventrelay.dev/eventrelay/internal/setup"
	"eventrelay.dev/eventrelay/shared/config"
)

// Entry point names, as Terraform's entry_point names them.
const (
	EntryIngest = "Ingest"
)

func init() {
	functions.HTTP(EntryIngest, lazyHTTP(EntryIngest, setup.Ingest))
}

type builder func(context.Context, *config.Env, setup.Options) (*setup.Function, error)

// lazyHTTP builds the function at start when this instance serves it
// (FUNCTION_TARGET names it), so a bad setting stops the start with one
// clear line; otherwise, as in tests that import this package for another
// function, it builds on first use.
func lazyHTTP(name string, build builder) http.HandlerFunc {
	var once sync.Once
	var fn *setup.Function
	var err error
	start := func() {
		fn, err = build(context.Background(), config.FromOS(), setup.Options{})
	}
	if os.Getenv("FUNCTION_TARGET") == name {
		once.Do(start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "eventrelay %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(start)
		if err != nil {
			http.Error(w, "function not configured", http.StatusInternalServerError)
			return
		}
		fn.Handler.ServeHTTP(w, r)
	}
}
