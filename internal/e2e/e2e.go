// Package e2e holds what the end-to-end tests of both local stacks share:
// a mixed batch of valid events, posting to ingest, and waiting for a
// condition. It is imported by tests only.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/dfinery"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/pii"
)

// Events makes n valid events of mixed types (PURCHASE of 19 USD, SEARCH,
// ADD_TO_CART, PAGE_VIEW in turn) with ids <prefix>-<i> (four digits),
// user user-<i>@example.com and device dev-<i> running os.
func Events(prefix, os string, n int, at time.Time) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		e := map[string]any{"id": fmt.Sprintf("%s-%04d", prefix, i), "timestamp": at.UnixMilli(), "channel_type": "APP",
			"user_id": fmt.Sprintf("user-%d@example.com", i), "device": map[string]any{"os": os, "persistent_id": fmt.Sprintf("dev-%d", i)}}
		item := []any{map[string]any{"id": "sku-1", "price": map[string]any{"currency": "USD", "amount": 9.5}, "quantity": 2}}
		switch i % 4 {
		case 0:
			e["event_type"], e["items"], e["revenue"] = "PURCHASE", item, map[string]any{"currency": "USD", "amount": 19}
		case 1:
			e["event_type"], e["search_query"] = "SEARCH", "running shoes"
		case 2:
			e["event_type"], e["items"] = "ADD_TO_CART", item
		case 3:
			e["event_type"], e["page_id"] = "PAGE_VIEW", "home"
		}
		out[i] = e
	}
	return out
}

// PostIngest sends body as JSON to an ingest endpoint with an API key and
// returns the status and the decoded answer.
func PostIngest(t testing.TB, url, apiKey string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("ingest answered %s, not in JSON: %v", resp.Status, err)
	}
	return resp.StatusCode, out
}

// Callback sends a DFINERY purchase callback for order (device dev-0, the
// amount in USD) to a verify endpoint, signed with ABX-HASH under key, and
// returns the status and body of the answer.
func Callback(t testing.TB, verifyURL, key, order string, at time.Time, amount string) (int, string) {
	t.Helper()
	body := url.Values{"adid": {"dev-0"}, "event_name": {"purchase"}, "event_timestamp": {fmt.Sprint(at.UnixMilli())},
		"param_json": {`{"abx:order_id":"` + order + `","abx:sales":` + amount + `,"abx:currency":"USD"}`}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, verifyURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(dfinery.HeaderHash, dfinery.Hash([]byte(key), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// WaitFor polls done until it holds, failing the test after timeout.
func WaitFor(t testing.TB, what string, timeout time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CheckDeliveredByteCorrect checks that every event of evs (made by Events
// at time at) reached the stand-in exactly once, unaltered: its type and
// original timestamp kept, user and device ids hashed with piiSalt, and no
// raw identifier anywhere in the body.
func CheckDeliveredByteCorrect(t testing.TB, sink *mcmsink.Sink, evs []map[string]any, at time.Time, piiSalt string) {
	t.Helper()
	anon, err := pii.New([]byte(piiSalt), []string{pii.UserID, pii.PersistentID}, pii.IPKeep)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]json.RawMessage{}
	for _, r := range sink.Accepted() {
		byID[r.ID] = r.Body
	}
	for i, e := range evs {
		body, ok := byID[e["id"].(string)]
		if !ok {
			t.Fatalf("%s never arrived", e["id"])
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s arrived as no JSON object: %v: %s", e["id"], err, body)
		}
		dev, _ := got["device"].(map[string]any)
		if got["timestamp"] != float64(at.UnixMilli()) || got["event_type"] != e["event_type"] ||
			got["user_id"] != anon.Hash(fmt.Sprintf("user-%d@example.com", i)) || dev["persistent_id"] != anon.Hash(fmt.Sprintf("dev-%d", i)) {
			t.Fatalf("%s arrived altered: %s", e["id"], body)
		}
		if strings.Contains(string(body), "@example.com") {
			t.Fatalf("raw identifier reached the platform: %s", body)
		}
	}
	for id, n := range sink.CountByID() {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
}
