package setup

import (
	"context"
	"encoding/json"
	"eventrelay.dev/eventrelay/internal/testclose"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/settings"
)

const testEraseKey = "erase-key-for-setup-tests-0123456"

func (st *stack) erase(t *testing.T, body, key string) (int, erase.Response) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, erase.Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json") // as the erase command sends it
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Ingest, st.ingest).ServeHTTP(rec, req)
	var resp erase.Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", rec.Code, err, rec.Body)
	}
	return rec.Code, resp
}

func (st *stack) post(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", testAPIKey)
	rec := httptest.NewRecorder()
	apicontract.Wrap(t, apicontract.Ingest, st.ingest).ServeHTTP(rec, req)
	var resp map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", rec.Code, err, rec.Body)
	}
	return rec.Code, resp
}

// Erasure end to end through setup's own wiring, on the memory ledger,
// dynalite and the Firestore emulator: the person's entry, claim and
// verdict go, verify no longer finds the order, and ingest refuses them.
func TestEraseThroughIngest(t *testing.T) {
	backends(t, func(t *testing.T, newStack func(t *testing.T) *stack) {
		st := newStack(t)
		at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		st.purchase(t, "ord-gone", at) // user "user-ord-gone", device testADID
		st.purchase(t, "ord-kept", at)
		cb := callback("ord-gone", at.UnixMilli())
		if status, reason := send(st.verifies[0], cb); status != 200 || reason != "confirmed" {
			t.Fatalf("before: %d %s", status, reason)
		}

		if status, _ := st.erase(t, `{"user_id":"user-ord-gone"}`, ""); status != http.StatusUnauthorized {
			t.Fatalf("without a key: %d", status)
		}
		if status, _ := st.erase(t, `{"user_id":"user-ord-gone"}`, "not-the-erase-key-000"); status != http.StatusForbidden {
			t.Fatalf("with a wrong key: %d", status)
		}
		status, resp := st.erase(t, `{"user_id":"user-ord-gone"}`, testEraseKey)
		if status != http.StatusOK || resp.Removed != (ledger.Erased{Entries: 1, Claims: 1, Verdicts: 1}) || resp.Suppressed != 1 {
			t.Fatalf("erase: %d %+v", status, resp)
		}
		// The same signed body again: its stored verdict went with the
		// person, and the order is no longer ours to confirm.
		for _, v := range st.verifies {
			if status, reason := send(v, cb); status != 422 || reason != "not_found" {
				t.Fatalf("after: %d %s", status, reason)
			}
		}
		if status, reason := send(st.verifies[1], callback("ord-kept", at.UnixMilli())); status != 200 || reason != "confirmed" {
			t.Fatalf("someone else's order: %d %s", status, reason)
		}
		// Their next event is refused.
		body := `{"id":"ord-again","event_type":"PURCHASE","timestamp":` + jsonNumber(at.UnixMilli()) + `,"channel_type":"SITE",
			"user_id":"user-ord-gone","items":[{"id":"sku-1","price":{"currency":"KRW","amount":1}}],"revenue":{"currency":"KRW","amount":1}}`
		code, answer := st.post(t, body)
		refused, _ := answer["refused"].([]any)
		if code != http.StatusAccepted || len(refused) != 1 || refused[0].(map[string]any)["reason"] != "erased" {
			t.Fatalf("new event: %d %v", code, answer)
		}
		// An id that matches nothing: 200, nothing removed, suppressed.
		status, resp = st.erase(t, `{"device_id":"never-seen-device"}`, testEraseKey)
		if status != http.StatusOK || resp.Removed != (ledger.Erased{}) || resp.Suppressed == 0 {
			t.Fatalf("unknown id: %d %+v", status, resp)
		}
	})
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Settings that are wrong stop the start with one line naming them.
func TestGovernanceSettings(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(good, []byte(`{"sku-1":{"price":1,"currency":"KRW"},"bad":{"price":"x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notJSON, []byte(`[1]`), 0o600); err != nil {
		t.Fatal(err)
	}
	opt := Options{Secrets: verifySecrets(t), Publisher: &queue.Memory{}, Ledger: ledger.NewMemory(nil)}
	for _, c := range []struct {
		env  map[string]string
		want string // "": starts
	}{
		{map[string]string{"CONSENT_DEFAULT": "denied", "CONSENT_SOURCES": "shop=granted, app=denied"}, ""},
		{map[string]string{"CONSENT_DEFAULT": "maybe"}, "CONSENT_DEFAULT"},
		{map[string]string{"CONSENT_SOURCES": "shop"}, "CONSENT_SOURCES"},
		{map[string]string{"CONSENT_SOURCES": "shop=yes"}, "CONSENT_SOURCES"},
		{map[string]string{"ERASE_RETENTION": "1h"}, "ERASE_RETENTION"},
		{map[string]string{"SUPPRESSION_CACHE": "1h"}, "SUPPRESSION_CACHE"},
		{map[string]string{"CATALOG_BACKEND": "file", "CATALOG_FILE": good}, ""},
		{map[string]string{"CATALOG_BACKEND": "file"}, "CATALOG_FILE"},
		{map[string]string{"CATALOG_BACKEND": "file", "CATALOG_FILE": notJSON}, "CATALOG_FILE"},
		{map[string]string{"CATALOG_BACKEND": "file", "CATALOG_FILE": filepath.Join(dir, "none.json")}, "CATALOG_FILE"},
		{map[string]string{"CATALOG_PRECEDENCE": "server"}, "CATALOG_PRECEDENCE"},
		{map[string]string{"CATALOG_BACKEND": "bigtable"}, "CATALOG_BACKEND"},
	} {
		fn, err := Ingest(context.Background(), settings.FromMap(verifyEnv(c.env)), opt)
		if c.want == "" {
			if err != nil {
				t.Errorf("%v: %v", c.env, err)
			} else {
				if err := fn.Close(); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line naming %s", c.env, err, c.want)
		}
	}
	// An erase key secret with no value yet: ingest starts and serves
	// events; /erase answers 503 until a key is added.
	fn, err := Ingest(context.Background(), settings.FromMap(verifyEnv(map[string]string{"ERASE_KEYS_SECRET": "not-there-yet"})), opt)
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, fn)
	st := &stack{ingest: fn.Handler}
	if status, _ := st.erase(t, `{"user_id":"u"}`, testEraseKey); status != http.StatusServiceUnavailable {
		t.Errorf("erase before any key: %d", status)
	}
	// Erasure without a ledger backend has nowhere to keep suppressions.
	noLedger := Options{Secrets: verifySecrets(t), Publisher: &queue.Memory{}}
	if _, err := Ingest(context.Background(), settings.FromMap(verifyEnv(nil)), noLedger); err == nil || !strings.Contains(err.Error(), "LEDGER_BACKEND") {
		t.Errorf("erasure without a ledger: %v", err)
	}
}

// Issue 25: ingest answers events on every path (what the function sees
// depends on what is in front of it: a Cloud Functions URL, a load
// balancer's prefix, a Lambda function URL); only /erase and /attest/…
// from the root are its other routes, so a prefixed /erase is an events
// request, never an erasure.
func TestIngestAnswersEventsOnEveryPath(t *testing.T) {
	st := newStack(t, nil, ledger.NewMemory(nil))
	at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	for i, path := range []string{"/", "/events", "/ingest/v1/", "/ingest/erase"} {
		body := `{"id":"path-` + jsonNumber(int64(i)) + `","event_type":"HOME","timestamp":"` + at + `","channel_type":"SITE","user_id":"u-path"}`
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", testAPIKey)
		req.Header.Set("Authorization", "Bearer "+testEraseKey)
		rec := httptest.NewRecorder()
		st.ingest.ServeHTTP(rec, req)
		var answer struct{ Accepted []struct{ ID string } }
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || rec.Code != http.StatusAccepted ||
			len(answer.Accepted) != 1 || answer.Accepted[0].ID != "path-"+jsonNumber(int64(i)) {
			t.Errorf("POST %s: %d %s, want the event accepted", path, rec.Code, rec.Body)
		}
	}
}
