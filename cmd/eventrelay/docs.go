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
	if len(args) == 0 || args[0] != "config" {
		return errors.New("usage: eventrelay docs config [-o path]: writes " + settingsdoc.Path + " from the settings registry")
	}
	fs := flag.NewFlagSet("docs config", flag.ContinueOnError)
	out := fs.String("o", filepath.Join(modroot.Find(), settingsdoc.Path), "where to write the page (- for standard output)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	page := settingsdoc.Markdown()
	if *out == "-" {
		_, err := os.Stdout.Write(page)
		return err
	}
	return os.WriteFile(*out, page, 0o644)
}
