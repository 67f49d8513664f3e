package main

import (
	"bufio"
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/devstack"
	"eventrelay.dev/eventrelay/internal/emulator"
	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/dfinery"
)

// Issue 11 point 3: `eventrelay serve` set no timeouts at all. The real
// forwarder on the local stack, served by it: a body trickled at 1 byte/s
// is cut and answered 408 at HTTP_READ_TIMEOUT, and unfinished headers
// are closed at HTTP_READ_HEADER_TIMEOUT.
func TestServeCutsSlowClients(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	addr := serveFunction(t, st, "Forward", map[string]string{"HTTP_READ_TIMEOUT": "2s", "HTTP_READ_HEADER_TIMEOUT": "1s"})
	var c net.Conn
	for range 100 {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, c)
	start := time.Now()
	if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range 60 {
			time.Sleep(time.Second)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 408") {
		t.Fatalf("slow body: %q %v", line, err)
	}
	t.Logf("slow body answered %q after %s", strings.TrimSpace(line), time.Since(start).Round(time.Millisecond))

	h, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, h)
	if _, err := fmt.Fprintf(h, "POST / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := h.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(h); err != nil {
		t.Fatalf("unfinished headers were not closed: %v", err)
	}
}

// Issue 23 point 8: the local stack honours LEDGER_BACKEND, and `serve`
// runs verify on DynamoDB from the variables the stack names
// (FunctionEnv): the stack's ingest records a purchase in dynalite, verify
// in its own server confirms DFINERY's callback from there, and the
// stack's own verify, on the same ledger, answers a second callback for
// the purchase already_confirmed.
func TestServeVerifyOnTheStacksDynamoDBLedger(t *testing.T) {
	if _, err := os.Stat(filepath.Join(modroot.Find(), "emulators", "node_modules", ".bin", "dynalite")); err != nil {
		emulator.Missing(t, "dynalite is not installed: run `make emulators`")
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "") // the stack starts dynalite and sets them
	}
	st, err := devstack.Start(context.Background(), devstack.Config{Env: map[string]string{"LEDGER_BACKEND": "dynamodb"}})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, st)
	if st.Ledger != nil || st.LedgerBackend != "dynamodb" || !strings.HasPrefix(st.LedgerAddr, "http://127.0.0.1:") {
		t.Fatalf("the stack's ledger: memory %v, backend %q at %q; want dynalite's", st.Ledger != nil, st.LedgerBackend, st.LedgerAddr)
	}
	addr := serveFunction(t, st, "Verify", nil)

	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	req, _ := http.NewRequest(http.MethodPost, st.IngestURL, strings.NewReader(devstack.ExampleEvent(at)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", devstack.DevAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: %d", resp.StatusCode)
	}
	callback := func(url string, sdkAt time.Time) (int, string) {
		param := `{"abx:order_id":"` + devstack.ExampleOrder + `","abx:order_sales":9.99,"abx:currency":"USD"}`
		body := "event_name=abx%3Apurchase&user_id=user-1&event_timestamp=" + strconv.FormatInt(sdkAt.UnixMilli(), 10) +
			"&param_json=" + neturl.QueryEscape(param)
		var status int
		var answer []byte
		for range 100 { // the served verify may still be starting
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(devstack.DevDFINERYKey), []byte(body)))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				answer, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return status, string(answer)
	}
	if status, answer := callback("http://"+addr, at); status != http.StatusOK {
		t.Fatalf("verify served on its own, on the stack's DynamoDB ledger: %d %s, want 200", status, answer)
	}
	if status, answer := callback(st.VerifyURL, at.Add(time.Second)); status == http.StatusOK || !strings.Contains(answer, "already_confirmed") {
		t.Fatalf("the stack's verify, a second callback: %d %s, want already_confirmed (one ledger)", status, answer)
	}
}

func TestDevRefusesAnUnknownLedgerBackend(t *testing.T) {
	_, err := devstack.Start(context.Background(), devstack.Config{Env: map[string]string{"LEDGER_BACKEND": "postgres"}})
	if err == nil || !strings.Contains(err.Error(), "LEDGER_BACKEND=postgres") {
		t.Fatalf("LEDGER_BACKEND=postgres: %v, want a refusal naming it", err)
	}
}

// serveFunction runs `eventrelay serve` for target in this process, with
// the stack's FunctionEnv plus extra, on a free port it returns.
func serveFunction(t *testing.T, st *devstack.Stack, target string, extra map[string]string) string {
	t.Helper()
	for _, kv := range st.FunctionEnv(target) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	for k, v := range extra {
		t.Setenv(k, v)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	go func() { t.Log(runServe([]string{"-listen", addr})) }()
	return addr
}
