package main

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/readme"
)

// The operator commands against a real local stack: a purchase sent with
// the dev key, the same signed, then callbacks that confirm it and one that
// names an order never sent.
func TestOperatorCommands(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	purchase := func(id string) string {
		return `{"id":"` + id + `","event_type":"PURCHASE","timestamp":` + strconv.FormatInt(at.UnixMilli(), 10) +
			`,"channel_type":"APP","user_id":"u-1","device":{"os":"android","persistent_id":"dev-cli"},` +
			`"items":[{"id":"sku","price":{"currency":"KRW","amount":12000},"quantity":2}],"revenue":{"currency":"KRW","amount":24000}}`
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Error(err)
		}
		return p
	}
	if err := runSend([]string{"-url", st.IngestURL, "-key", devstack.DevAPIKey, "-file", write("a.json", purchase("order-cli-1"))}); err != nil {
		t.Fatalf("send with a key: %v", err)
	}
	if err := runSend([]string{"-url", st.IngestURL, "-source", devstack.DevSource, "-signing-secret", devstack.DevSigningSecret,
		"-file", write("b.json", purchase("order-cli-2"))}); err != nil {
		t.Fatalf("signed send: %v", err)
	}
	if err := runSend([]string{"-url", st.IngestURL, "-key", "dev.wrong-secret", "-file", write("c.json", purchase("order-cli-3"))}); err == nil {
		t.Fatal("send with a wrong key succeeded")
	}
	call := func(order, amount string, extra ...string) error {
		return runCallback(append([]string{"-url", st.VerifyURL, "-key", devstack.DevDFINERYKey, "-adid", "dev-cli",
			"-order", order, "-amount", amount, "-currency", "KRW", "-time", at.Format(time.RFC3339Nano)}, extra...))
	}
	if err := call("order-cli-1", "24000"); err != nil {
		t.Fatalf("callback for a recorded purchase: %v", err)
	}
	if err := call("order-cli-2", "24000", "-json"); err != nil {
		t.Fatalf("JSON callback for a recorded purchase: %v", err)
	}
	if err := call("order-never", "24000"); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("callback for an order never sent: %v, want a 422", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for st.Sink.Stats().Accepted < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := runCounters([]string{"-url", st.CountersURL}); err != nil {
		t.Fatalf("counters: %v", err)
	}
	c := st.Counters.Snapshot()
	if c["ingest_events.accepted"] != 2 || c["ingest_requests.401"] != 1 || c["ingest_auth_failures"] != 1 || c["verify_reasons.confirmed"] != 2 || c["verify_reasons.not_found"] != 1 {
		t.Fatalf("counters do not match what was sent: %v", c)
	}
}

func TestPrintFunnel(t *testing.T) {
	var b strings.Builder
	if err := printFunnel(&b, map[string]int64{"ingest_events.accepted": 10, "ingest_events.rejected": 2,
		"forwarder_outcomes.delivered": 6, "forwarder_outcomes.dead_lettered": 3, "backfill_events.resent": 1,
		"verify_callbacks.failed": 4, "ingest_auth_failures": 5}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"ingest      accepted 10  duplicate 0  rejected 2  not_accepted 0  auth_failed 5\n",
		"forwarder   delivered 6  dead_lettered 3  retry 0  circuit_open 0\n",
		"pending     1 (accepted - delivered - dead_lettered)\n",
		"backfill    resent 1  reparked 0  runs_completed 0  runs_failed 0\n",
		"verify      confirmed 0  failed 4\n",
		"\nbackfill_events.resent                   1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// The README's example purchase and its callback command work as written,
// against `make dev`'s stack: confirmed once, then already_confirmed.
func TestREADMEExampleCallback(t *testing.T) {
	quickStart := readme.Doc(t, "README.md")
	// The quick start names verify's address $VERIFY_URL, after exporting it.
	if !strings.Contains(quickStart, "VERIFY_URL=http://"+devstack.DefaultVerifyAddr) {
		t.Fatalf("README.md does not set VERIFY_URL to %s", devstack.DefaultVerifyAddr)
	}
	command := devstack.ExampleCallbackCommand(`"$VERIFY_URL"`, time.Time{})
	for _, want := range []string{command, `"id":"` + devstack.ExampleOrder + `"`} {
		if !strings.Contains(quickStart, want) {
			t.Fatalf("README.md does not show %s", want)
		}
	}
	st, err := devstack.Start(context.Background(), devstack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	file := filepath.Join(t.TempDir(), "example.json")
	if err := os.WriteFile(file, []byte(devstack.ExampleEvent(time.Now().Add(-time.Minute))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runSend([]string{"-url", st.IngestURL, "-key", devstack.DevAPIKey, "-file", file}); err != nil {
		t.Fatalf("the README's example event: %v", err)
	}
	if err := runCallback(devstack.ExampleCallback(st.VerifyURL, time.Time{})); err != nil {
		t.Fatalf("the README's callback: %v", err)
	}
	// A later event_timestamp: another body for the same purchase.
	if err := runCallback(devstack.ExampleCallback(st.VerifyURL, time.Now().Add(2*time.Second))); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("a second callback for the same purchase: %v, want a 422 (already_confirmed)", err)
	}
}
