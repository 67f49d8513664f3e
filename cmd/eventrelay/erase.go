package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"strings"

	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/shared/settings"
)

// runErase asks ingest's admin route to erase one person: their ledger
// entries and verify's records go, and a suppression stops their events.
func runErase(args []string) error {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	target := fs.String("url", "http://127.0.0.1:8080", "the ingest endpoint (the request goes to its "+erase.Path+" route)")
	key := fs.String("key", settings.CLIEraseKey.Get(settings.FromOS()), "an erase key, as stored in the ERASE_KEYS_SECRET secret (default $EVENTRELAY_ERASE_KEY)")
	user := fs.String("user", "", "the user id, raw, as the app sends it")
	device := fs.String("device", "", "a device id (persistent, advertising or unique), raw, as the app sends it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" && *device == "" {
		return errors.New("give -user or -device (or both)")
	}
	if *key == "" {
		return errors.New("give -key or set EVENTRELAY_ERASE_KEY")
	}
	body, _ := json.Marshal(erase.Request{UserID: *user, DeviceID: *device})
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(*target, "/")+erase.Path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+*key)
	return exchange(req, http.StatusOK)
}
