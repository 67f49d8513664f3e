package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"eventrelay.dev/eventrelay/internal/cost"
)

// runCost prints the cost model's tables (docs/cost.md) for another volume
// or mix of events.
func runCost(args []string) error {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	d := cost.DefaultParams()
	cloud := fs.String("cloud", "", "gcp or aws (default: both)")
	events := fs.Float64("events", d.Events, "events a `month`")
	purchases := fs.Float64("purchases", d.Purchases, "the purchases' `share` of the events, 0 to 1")
	callbacks := fs.Float64("callbacks", d.CallbacksPerPurchase, "DFINERY callbacks verify answers per purchase")
	batch := fs.Float64("batch", d.EventsPerRequest, "events in one ingest request")
	repeat := fs.Float64("repeat", d.Repeat, "the `share` of events whose person the instance looked up on the erasure list within SUPPRESSION_CACHE, 0 to 1")
	archive := fs.Bool("archive", false, "with the archive on (off by default in both modules)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: eventrelay cost [-cloud gcp|aws] [-events N] [-purchases F] [-callbacks F] [-batch N] [-repeat F] [-archive]")
	}
	p := cost.Params{Events: *events, Purchases: *purchases, CallbacksPerPurchase: *callbacks, EventsPerRequest: *batch, Repeat: *repeat, Archive: *archive}
	clouds := cost.Clouds
	if *cloud != "" {
		clouds = []string{*cloud}
	}
	q, err := cost.Current()
	if err != nil {
		return err
	}
	pl, err := cost.Prices()
	if err != nil {
		return err
	}
	for _, c := range clouds {
		r, err := cost.Compute(c, p, q, pl)
		if err != nil {
			return err
		}
		l, s := r.Largest(), r.ByService()[0]
		fmt.Printf("## %s: %s\n\n%s\nLargest term: %s %s, %.0f%% of the total; largest service: %s, %.0f%%.\n\n",
			c, cost.Describe(p), cost.Table(r), l.Service, l.Item, 100*l.Cost/r.Total(false), s.Service, 100*s.Cost/r.Total(false))
	}
	_, err = fmt.Fprintf(os.Stdout, "Quantities measured at commit %s (%s); prices and their pages: %s.\n", q.Commit, q.Date, cost.Path)
	return err
}
