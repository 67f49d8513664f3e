package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"eventrelay.dev/eventrelay/internal/packaging"
)

// runPackage writes dist/gcp-source.zip, or with -lambda the Lambda zip of
// an already built bootstrap binary.
func runPackage(args []string) error {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	out := fs.String("o", "dist/gcp-source.zip", "output zip")
	root := fs.String("root", ".", "module root (the folder holding go.mod)")
	lambdaBinary := fs.String("lambda", "", "package this bootstrap binary as a Lambda zip instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if *lambdaBinary != "" {
		err = packaging.WriteLambdaZip(*lambdaBinary, f)
	} else {
		err = packaging.WriteSourceZip(*root, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(*out))
	}
	fmt.Println(*out)
	return nil
}
