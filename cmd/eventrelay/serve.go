package main

import (
	"errors"
	"flag"
	"net"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	// The Cloud Functions entry package: its init registers every function
	// with the Functions Framework, exactly as in a deployed instance.
	_ "eventrelay.dev/eventrelay"
)

// runServe serves one function on a local port through the Functions
// Framework, configured from the environment like a deployed instance
// (FUNCTION_TARGET names the entry point). The load-and-fault run uses it to
// give the forwarder a process of its own that it can kill.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Getenv("FUNCTION_TARGET") == "" {
		return errors.New("FUNCTION_TARGET is not set: name the entry point (Ingest, Forward, ForwardEvent, Verify, Backfill)")
	}
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return err
	}
	return funcframework.StartHostPort(host, port)
}
