package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/settings"
)

var opsClient = &http.Client{Timeout: 30 * time.Second}

// runSend posts events to ingest, with an API key or signed with a source's
// signing secret, and prints the answer.
func runSend(args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	target := fs.String("url", "http://127.0.0.1:8080", "the ingest endpoint")
	file := fs.String("file", "-", "a JSON file of one event, an array, or {\"events\":[...]} (- reads standard input)")
	key := fs.String("key", settings.CLIAPIKey.Get(settings.FromOS()), "API key <id>.<secret> (default $EVENTRELAY_API_KEY)")
	source := fs.String("source", "", "with -signing-secret: the source the request is signed for")
	secret := fs.String("signing-secret", settings.CLISigningSecret.Get(settings.FromOS()), "sign instead of sending a key (default $EVENTRELAY_SIGNING_SECRET)")
	credential := fs.String("credential", "", "an attestation credential from the exchange (eventrelay attest), alone or beside a key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := readInput(*file)
	if err != nil {
		return err
	}
	if !json.Valid(body) {
		return errors.New("the input is not JSON")
	}
	req, err := http.NewRequest(http.MethodPost, *target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if *credential != "" {
		req.Header.Set(auth.HeaderAttestation, *credential)
	}
	switch {
	case *credential != "" && *key == "" && *secret == "":
	case *secret != "":
		if *source == "" {
			return errors.New("-signing-secret needs -source")
		}
		req.Header.Set(auth.HeaderSource, *source)
		req.Header.Set(auth.HeaderSignature, auth.Sign(time.Now(), body, *secret))
	case *key != "":
		req.Header.Set("X-Api-Key", *key)
	default:
		return errors.New("give -key, -credential, or -source and -signing-secret")
	}
	return exchange(req, http.StatusAccepted)
}

// runCallback sends a DFINERY verification callback, signed with ABX-HASH
// as DFINERY signs it, and prints the verifier's answer.
func runCallback(args []string) error {
	fs := flag.NewFlagSet("callback", flag.ContinueOnError)
	target := fs.String("url", "", "the verify endpoint (required)")
	key := fs.String("key", settings.CLIDFINERYKey.Get(settings.FromOS()), "the HMAC key as issued, UUID text (default $DFINERY_KEY)")
	name := fs.String("event", "abx:purchase", "DFINERY event name")
	adid := fs.String("adid", "", "the device's advertising id ({req.common.identity.adid}: the GAID on Android, the IDFA on iOS)")
	gaid := fs.String("gaid", "", "Android's advertising id ({req.common.identity.gaid})")
	idfa := fs.String("idfa", "", "iOS's advertising id ({req.common.identity.idfa}; the zero UUID without ATT consent)")
	idfv := fs.String("idfv", "", "iOS's vendor id ({req.common.identity.idfv})")
	userID := fs.String("user", "", "the user id")
	order := fs.String("order", "", "order id (our event id), sent in param_json as abx:order_id")
	amount := fs.String("amount", "", "sales amount, sent in param_json as abx:order_sales")
	currency := fs.String("currency", "", "currency, sent in param_json")
	at := fs.String("time", "", "event time, RFC 3339 (default now)")
	asJSON := fs.Bool("json", false, "send a JSON body instead of a form")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" || *key == "" {
		return errors.New("-url and -key are required")
	}
	when := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("-time: %w", err)
		}
		when = t
	}
	params := map[string]any{}
	if *order != "" {
		params["abx:order_id"] = *order
	}
	if *amount != "" {
		f, err := strconv.ParseFloat(*amount, 64)
		if err != nil {
			return fmt.Errorf("-amount: %w", err)
		}
		params["abx:order_sales"] = f
	}
	if *currency != "" {
		params["abx:currency"] = *currency
	}
	paramJSON, _ := json.Marshal(params)
	fields := map[string]string{"event_name": *name, "event_timestamp": strconv.FormatInt(when.UnixMilli(), 10),
		"param_json": string(paramJSON)}
	for k, v := range map[string]string{"adid": *adid, "gaid": *gaid, "idfa": *idfa, "idfv": *idfv} {
		if v != "" {
			fields[k] = v
		}
	}
	if *userID != "" {
		fields["user_id"] = *userID
	}
	var body []byte
	contentType := "application/x-www-form-urlencoded"
	if *asJSON {
		body, _ = json.Marshal(fields)
		contentType = "application/json"
	} else {
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		body = []byte(form.Encode())
	}
	req, err := http.NewRequest(http.MethodPost, *target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(*key), body))
	return exchange(req, 0)
}

// runCounters prints the local stack's counters.
func runCounters(args []string) error {
	fs := flag.NewFlagSet("counters", flag.ContinueOnError)
	target := fs.String("url", "http://"+devstack.DefaultAdminAddr+"/counters", "the counters endpoint of `make dev`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	resp, err := opsClient.Get(*target)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var counters map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&counters); err != nil {
		return fmt.Errorf("%s did not answer with counters: %w", *target, err)
	}
	return printFunnel(os.Stdout, counters)
}

// printFunnel prints the funnel (what ingest accepted, and what became of
// it), then every counter. The names are the cloud metrics' (docs/operations.md),
// so the same story reads the same on the dashboard. The text is built first
// and written once, so a failed write is one error returned.
func printFunnel(w io.Writer, c map[string]int64) error {
	var b strings.Builder
	row := func(stage string, parts ...string) {
		fmt.Fprintf(&b, "%-10s", stage)
		for i := 0; i+1 < len(parts); i += 2 {
			fmt.Fprintf(&b, "  %s %d", parts[i], c[parts[i+1]])
		}
		fmt.Fprintln(&b)
	}
	row("ingest", "accepted", "ingest_events.accepted", "duplicate", "ingest_events.duplicate",
		"rejected", "ingest_events.rejected", "not_accepted", "ingest_events.not_accepted",
		"auth_failed", "ingest_auth_failures")
	row("forwarder", "delivered", "forwarder_outcomes.delivered", "dead_lettered", "forwarder_outcomes.dead_lettered",
		"retry", "forwarder_outcomes.retry", "circuit_open", "forwarder_outcomes.circuit_open")
	// Every accepted event ends delivered or dead-lettered; the rest is on
	// its way (a duplicate delivery counts once, as delivered).
	pending := c["ingest_events.accepted"] - c["forwarder_outcomes.delivered"] - c["forwarder_outcomes.dead_lettered"]
	fmt.Fprintf(&b, "%-10s  %d (accepted - delivered - dead_lettered)\n", "pending", max(pending, 0))
	row("backfill", "resent", "backfill_events.resent", "reparked", "backfill_events.reparked",
		"runs_completed", "backfill_runs.completed", "runs_failed", "backfill_runs.failed")
	row("verify", "confirmed", "verify_callbacks.confirmed", "failed", "verify_callbacks.failed")
	fmt.Fprintln(&b)
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "%-40s %d\n", k, c[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// exchange sends req, prints the status line and the body, and fails on an
// unexpected status (want 0: any 2xx).
func exchange(req *http.Request, want int) error {
	resp, err := opsClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("%s\n%s\n", resp.Status, bytes.TrimSpace(b))
	if (want != 0 && resp.StatusCode != want) || resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	}
	return os.ReadFile(name)
}
