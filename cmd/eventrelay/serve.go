package main

import (
	"errors"
	"flag"
	"fmt"
	"net"

	// The Cloud Functions entry package: its init registers every function,
	// exactly as in a deployed instance.
	"eventrelay.dev/eventrelay"
	"eventrelay.dev/eventrelay/internal/httpserver"
	"eventrelay.dev/eventrelay/shared/settings"
)

// runServe serves one function on a local port, configured from the
// environment like a deployed instance (FUNCTION_TARGET names the entry
// point), with the handler the Functions Framework serves in the cloud,
// behind the server limits of HTTP_* (the Framework's own server has none).
// The load-and-fault run uses it to give the forwarder a process of its own
// that it can kill.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env := settings.FromOS()
	target := settings.FunctionTarget.Get(env)
	if target == "" {
		return errors.New("FUNCTION_TARGET is not set: name the entry point (Ingest, Forward, ForwardEvent, Verify, Backfill)")
	}
	limits := httpserver.FromEnv(env)
	if err := env.Err(); err != nil {
		return err
	}
	h, err := eventrelay.Handler(target)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return httpserver.New(h, limits).Serve(ln)
}
