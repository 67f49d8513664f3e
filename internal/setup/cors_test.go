package setup

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/internal/testclose"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// webIngest starts ingest with a Firebase App Check source "web" (require)
// whose key set is the stand-in's, and INGEST_CORS_ORIGINS set to origins.
func webIngest(t *testing.T, origins string) (http.Handler, *fakeattest.AppCheck, *queue.Memory) {
	t.Helper()
	ac, err := fakeattest.NewAppCheck()
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(ac)
	t.Cleanup(jwks.Close)
	env := map[string]string{"INGEST_API_KEYS_SECRET": "keys", "PII_HASH_FIELDS": "none",
		"ATTEST_CREDENTIAL_KEYS_SECRET": "creds", "ATTEST_FIREBASE_JWKS_URL": jwks.URL,
		"ATTEST_SOURCES": `{"web":{"policy":"require","firebase":{"project_number":"123","app_ids":["1:123:web:abc"]}}}`}
	if origins != "" {
		env["INGEST_CORS_ORIGINS"] = origins
	}
	pub := &queue.Memory{}
	f, err := Ingest(context.Background(), settings.FromMap(env), Options{Publisher: pub, Logger: slog.New(slog.DiscardHandler),
		Ledger: ledger.NewMemory(nil), Secrets: secrets.NewMemory(map[string]string{"keys": `{"api_keys":[]}`,
			"creds": `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`})})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, f)
	return apicontract.Wrap(t, apicontract.Ingest, f.Handler), ac, pub
}

func browserRequest(method, path, origin string, header map[string]string, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Origin", origin)
	r.Header.Set("Sec-Fetch-Mode", "cors")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func serveOne(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The web flow of docs/attestation.md as a browser on a listed page runs
// it: preflight, the App Check exchange, preflight, events with the
// credential; every answer is one the page may read (its origin echoed),
// and the contract's.
func TestWebPageExchangesAndSends(t *testing.T) {
	const page = "https://shop.example"
	h, ac, pub := webIngest(t, page+", http://localhost:3000")
	readable := func(step string, w *httptest.ResponseRecorder) {
		t.Helper()
		if got := w.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != page {
			t.Fatalf("%s: Access-Control-Allow-Origin %q, want %s (answer %d %s)", step, got, page, w.Code, w.Body)
		}
	}
	pre := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
	w := serveOne(h, browserRequest(http.MethodOptions, "/attest/v1/firebase", page, pre, ""))
	if w.Code != http.StatusNoContent || !strings.EqualFold(w.Header().Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("exchange preflight: %d, Allow-Headers %q", w.Code, w.Header().Get("Access-Control-Allow-Headers"))
	}
	readable("exchange preflight", w)

	token := ac.Mint(ac.Claims("123", "shop-project", "1:123:web:abc"))
	w = serveOne(h, browserRequest(http.MethodPost, "/attest/v1/firebase", page, map[string]string{"Content-Type": "application/json"},
		`{"source":"web","token":"`+token+`"}`))
	if w.Code != http.StatusOK {
		t.Fatalf("exchange: %d %s", w.Code, w.Body)
	}
	readable("exchange", w)
	var cred struct{ Credential, Header string }
	if err := json.Unmarshal(w.Body.Bytes(), &cred); err != nil {
		t.Fatal(err)
	}

	pre["Access-Control-Request-Headers"] = "content-encoding,content-type,x-eventrelay-attestation"
	w = serveOne(h, browserRequest(http.MethodOptions, "/", page, pre, ""))
	if w.Code != http.StatusNoContent {
		t.Fatalf("events preflight: %d %s", w.Code, w.Body)
	}
	readable("events preflight", w)
	for _, want := range []string{"content-type", "content-encoding", "x-eventrelay-attestation"} {
		if !strings.Contains(strings.ToLower(w.Header().Get("Access-Control-Allow-Headers")), want) {
			t.Errorf("events preflight does not allow %s: %q", want, w.Header().Get("Access-Control-Allow-Headers"))
		}
	}

	w = serveOne(h, browserRequest(http.MethodPost, "/", page, map[string]string{"Content-Type": "application/json", cred.Header: cred.Credential},
		`{"id":"web-1","event_type":"HOME","channel_type":"SITE","user_id":"u1","timestamp":"`+time.Now().UTC().Format(time.RFC3339)+`"}`))
	if w.Code != http.StatusAccepted {
		t.Fatalf("events: %d %s", w.Code, w.Body)
	}
	readable("events", w)
	if n := len(pub.Messages()); n != 1 {
		t.Errorf("%d events queued, want 1", n)
	}

	// A refusal is readable too (the page learns why), Retry-After with it.
	w = serveOne(h, browserRequest(http.MethodPost, "/", page, map[string]string{"Content-Type": "application/json"}, `{}`))
	readable("refused events", w)
	if !strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("Retry-After is not exposed: %q", w.Header().Get("Access-Control-Expose-Headers"))
	}

	// Another origin's preflight is refused, the contract's 403; the
	// exchange routes of apps and /erase answer no preflight.
	w = serveOne(h, browserRequest(http.MethodOptions, "/", "https://evil.example", pre, ""))
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("hostile origin's preflight: %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	w = serveOne(h, browserRequest(http.MethodOptions, "/attest/v1/challenge", page, pre, ""))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("challenge preflight: %d, Allow-Origin %q; the web flow has no challenge", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

// Without INGEST_CORS_ORIGINS nothing is answered for browsers: a
// preflight is a 405 like any other method, and no answer names an origin.
func TestNoCORSByDefault(t *testing.T) {
	h, _, _ := webIngest(t, "")
	pre := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
	for _, path := range []string{"/", "/attest/v1/firebase"} {
		w := serveOne(h, browserRequest(http.MethodOptions, path, "https://shop.example", pre, ""))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: preflight %d, want 405", path, w.Code)
		}
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: %s without INGEST_CORS_ORIGINS", path, k)
			}
		}
	}
}

// A malformed origin stops the start, naming the setting and how to write it.
func TestCORSOriginsSetting(t *testing.T) {
	for in, want := range map[string]string{
		"*":                      "INGEST_CORS_ORIGINS",
		"https://shop.example/":  `write "https://shop.example"`,
		"null":                   "names no page",
		"shop.example":           "scheme://host",
		"https://a.example, *":   "INGEST_CORS_ORIGINS",
		"https://Shop.example":   `write "https://shop.example"`,
		"https://shop.example:1": "",
	} {
		env := map[string]string{"INGEST_API_KEYS_SECRET": "keys", "PII_HASH_FIELDS": "none", "INGEST_CORS_ORIGINS": in}
		f, err := Ingest(context.Background(), settings.FromMap(env), Options{Publisher: &queue.Memory{},
			Logger: slog.New(slog.DiscardHandler), Secrets: secrets.NewMemory(map[string]string{"keys": `{"api_keys":[]}`})})
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			} else {
				testclose.Cleanup(t, f)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "INGEST_CORS_ORIGINS") {
			t.Errorf("%q: got %v, want an error naming INGEST_CORS_ORIGINS and %s", in, err, want)
		}
	}
}
