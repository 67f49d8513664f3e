package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"eventrelay.dev/eventrelay/shared/auth"
)

func runKeygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	id := fs.String("id", "", "key id, e.g. shop-2026b (letters, digits, - and _)")
	source := fs.String("source", "", "the source this key authenticates, e.g. shop-backend")
	if err := fs.Parse(args); err != nil {
		return err
	}
	presented, stored, err := auth.NewAPIKey(*id, *source)
	if err != nil {
		return err
	}
	entry, _ := json.Marshal(stored)
	fmt.Fprintln(os.Stderr, "Give this key to the caller (shown once, never stored):")
	fmt.Println(presented)
	fmt.Fprintln(os.Stderr, `Add this entry to the "api_keys" array of the ingest API keys secret:`)
	fmt.Println(string(entry))
	return nil
}
