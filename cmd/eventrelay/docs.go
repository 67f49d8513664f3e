package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"

	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/internal/settingsdoc"
)

// runDocs writes the generated documentation: `docs config` writes
// docs/configuration.md from the settings registry (-o - prints it).
func runDocs(args []string) error {
	fs := flag.NewFlagSet("docs", flag.ContinueOnError)
	out := fs.String("o", "", "where docs config writes the page: a `path`, or - for standard output (default: "+settingsdoc.Path+" in the checkout)")
	config := len(args) > 0 && args[0] == "config"
	if config {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !config || fs.NArg() > 0 {
		return errors.New("usage: eventrelay docs config [-o path]: writes " + settingsdoc.Path + " from the settings registry")
	}
	page := settingsdoc.Markdown()
	if *out == "" {
		*out = filepath.Join(modroot.Find(), settingsdoc.Path)
	}
	if *out == "-" {
		_, err := os.Stdout.Write(page)
		return err
	}
	return os.WriteFile(*out, page, 0o644)
}
