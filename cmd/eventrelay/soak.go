package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/signal"
	"syscall"
	"time"

	"eventrelay.dev/eventrelay/internal/soak"
)

// runSoak is the load-and-fault run on the local stack (make soak).
func runSoak(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	cfg := soak.Config{}
	fs.IntVar(&cfg.Events, "events", 100000, "events to send through ingest")
	fs.IntVar(&cfg.MalformedEvery, "malformed-every", 100, "every Nth event is malformed (0: none)")
	fs.IntVar(&cfg.BatchSize, "batch", 100, "events per batch request (as many again are sent one per request)")
	fs.IntVar(&cfg.Senders, "senders", 16, "concurrent ingest clients")
	fs.IntVar(&cfg.Kills, "kills", 2, "times the forwarder process is killed and restarted")
	fs.DurationVar(&cfg.Timeout, "timeout", 15*time.Minute, "bound on the whole run")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.Exe, cfg.Progress = exe, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := soak.RunPubSub(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.Print(os.Stdout); err != nil {
		return err
	}
	if !rep.OK() {
		return errors.New("the run lost, duplicated or misjudged events (see the report)")
	}
	return nil
}
