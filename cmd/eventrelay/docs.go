package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"

	"eventrelay.dev/eventrelay/internal/cost"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/internal/settingsdoc"
)

// runDocs writes the generated documentation: `docs config` writes
// docs/configuration.md from the settings registry, `docs cost`
// docs/cost.md from the cost model's quantities and prices (-o - prints
// either).
func runDocs(args []string) error {
	fs := flag.NewFlagSet("docs", flag.ContinueOnError)
	out := fs.String("o", "", "where the page goes: a `path`, or - for standard output (default: "+settingsdoc.Path+" or "+cost.Path+" in the checkout)")
	var which string
	if len(args) > 0 && (args[0] == "config" || args[0] == "cost") {
		which, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if which == "" || fs.NArg() > 0 {
		return errors.New("usage: eventrelay docs config|cost [-o path]: writes " + settingsdoc.Path + " from the settings registry, or " + cost.Path + " from the cost model")
	}
	page, path := settingsdoc.Markdown(), settingsdoc.Path
	if which == "cost" {
		var err error
		if page, err = cost.Page(); err != nil {
			return err
		}
		path = cost.Path
	}
	if *out == "" {
		*out = filepath.Join(modroot.Find(), path)
	}
	if *out == "-" {
		_, err := os.Stdout.Write(page)
		return err
	}
	return os.WriteFile(*out, page, 0o644)
}
