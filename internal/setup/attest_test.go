package setup

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/internal/syncbuf"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Each bad attestation setting stops ingest's start with one line naming it.
func TestAttestationSettings(t *testing.T) {
	const apple = `"apple":{"app_ids":["TEAM.app"]}`
	cases := []struct {
		name    string
		env     map[string]string
		memory  bool // the memory ledger (local stack)
		wantErr string
	}{
		{"off", nil, false, ""},
		{"apple on the memory ledger", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"require",` + apple + `}}`}, true, ""},
		{"policies only, no ledger", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"monitor"}}`}, false, ""},
		{"exchange without a ledger", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"require",` + apple + `}}`}, false, "LEDGER_BACKEND"},
		{"not JSON", map[string]string{"ATTEST_SOURCES": `ios=require`}, true, "ATTEST_SOURCES"},
		{"bad policy", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"strict"}}`}, true, "strict"},
		{"no app ids", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"off","apple":{"app_ids":[]}}}`}, true, "app_ids"},
		{"bad environment", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"off","apple":{"app_ids":["T.a"],"environment":"staging"}}}`}, true, "staging"},
		{"android without digests", map[string]string{"ATTEST_SOURCES": `{"a":{"policy":"off","android":{"package_names":["p"]}}}`}, true, "certificate digests"},
		{"no credential keys secret", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"monitor"}}`, "ATTEST_CREDENTIAL_KEYS_SECRET": ""}, true, "ATTEST_CREDENTIAL_KEYS_SECRET"},
		{"credential keys not JSON", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"monitor"}}`, "ATTEST_CREDENTIAL_KEYS_SECRET": "keys"}, true, "ATTEST_CREDENTIAL_KEYS_SECRET"},
		{"credential TTL too long", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"monitor"}}`, "ATTEST_CREDENTIAL_TTL": "2h"}, true, "ATTEST_CREDENTIAL_TTL"},
		{"firebase without app ids", map[string]string{"ATTEST_SOURCES": `{"w":{"policy":"off","firebase":{"project_number":"1","app_ids":[]}}}`}, true, "firebase"},
		{"bad test root", map[string]string{"ATTEST_SOURCES": `{"ios":{"policy":"require",` + apple + `}}`, "ATTEST_APPLE_ROOT_PEM": "not pem"}, true, "ATTEST_APPLE_ROOT_PEM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"INGEST_API_KEYS_SECRET": "keys", "PII_HASH_FIELDS": "none",
				"ATTEST_CREDENTIAL_KEYS_SECRET": "creds"}
			for k, v := range c.env {
				env[k] = v
				if v == "" {
					delete(env, k)
				}
			}
			opt := Options{Publisher: &queue.Memory{}, Logger: slog.New(slog.DiscardHandler), Secrets: secrets.NewMemory(map[string]string{"keys": `{"api_keys":[]}`,
				"creds": `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`})}
			if c.memory {
				opt.Ledger = ledger.NewMemory(nil)
			}
			f, err := Ingest(context.Background(), settings.FromMap(env), opt)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("got %v, want an error naming %s", err, c.wantErr)
			}
		})
	}
}

// The credential keys secret is created empty: until it has a value,
// ingest answers not_configured, then serves without a redeploy.
func TestAttestationAwaitsCredentialKeys(t *testing.T) {
	src := secrets.NewMemory(map[string]string{"keys": `{"api_keys":[]}`})
	env := settings.FromMap(map[string]string{"INGEST_API_KEYS_SECRET": "keys", "PII_HASH_FIELDS": "none",
		"ATTEST_SOURCES":                `{"ios":{"policy":"require","apple":{"app_ids":["TEAM.app"]}}}`,
		"ATTEST_CREDENTIAL_KEYS_SECRET": "creds", "SECRETS_CACHE_TTL": "1s"})
	f, err := Ingest(context.Background(), env, Options{Publisher: &queue.Memory{}, Secrets: src,
		Ledger: ledger.NewMemory(nil), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	testclose.Cleanup(t, f)
	challenge := func() int {
		w := httptest.NewRecorder()
		f.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/attest/v1/challenge", strings.NewReader(`{"source":"ios"}`)))
		return w.Code
	}
	if code := challenge(); code != http.StatusServiceUnavailable {
		t.Fatalf("without credential keys: %d, want 503", code)
	}
	src.Set("creds", `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`)
	deadline := time.Now().Add(20 * time.Second)
	for challenge() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the exchange did not start once the credential keys had a value")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deployedLedger is a ledger backend that is not the local stack's memory
// ledger, as Firestore and DynamoDB are not.
type deployedLedger struct {
	*ledger.Memory
	*ledger.AttestMemory
}

// The test-only settings (another Apple root, decode server or key set)
// are refused outside the local stack unless ATTEST_TEST_ENDPOINTS=allow,
// which is then logged at start (the code before took them anywhere,
// silently).
func TestTestOnlyEndpointsRefusedInADeployment(t *testing.T) {
	const sources = `{"ios":{"policy":"require","apple":{"app_ids":["TEAM.app"]},"android":{"package_names":["p"],"certificate_digests":["d"]}}}`
	for _, c := range []struct {
		name    string
		env     map[string]string
		local   bool
		wantErr string
		warn    string
	}{
		{"root in a deployment", map[string]string{"ATTEST_APPLE_ROOT_PEM": string(testRoot(t))}, false, "ATTEST_APPLE_ROOT_PEM", ""},
		{"decode server in a deployment", map[string]string{"PLAYINTEGRITY_ENDPOINT": "http://127.0.0.1:1/"}, false, "PLAYINTEGRITY_ENDPOINT", ""},
		{"key set in a deployment", map[string]string{"ATTEST_FIREBASE_JWKS_URL": "http://127.0.0.1:1/"}, false, "ATTEST_FIREBASE_JWKS_URL", ""},
		{"allowed, logged", map[string]string{"PLAYINTEGRITY_ENDPOINT": "http://127.0.0.1:1/", "ATTEST_TEST_ENDPOINTS": "allow"}, false, "", "PLAYINTEGRITY_ENDPOINT"},
		{"allow misspelt", map[string]string{"PLAYINTEGRITY_ENDPOINT": "http://127.0.0.1:1/", "ATTEST_TEST_ENDPOINTS": "yes"}, false, "ATTEST_TEST_ENDPOINTS", ""},
		{"the local stack", map[string]string{"PLAYINTEGRITY_ENDPOINT": "http://127.0.0.1:1/"}, true, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"INGEST_API_KEYS_SECRET": "keys", "PII_HASH_FIELDS": "none",
				"ATTEST_CREDENTIAL_KEYS_SECRET": "creds", "ATTEST_SOURCES": sources, "PLAYINTEGRITY_ENDPOINT": "http://127.0.0.1:1/"}
			if _, ok := c.env["PLAYINTEGRITY_ENDPOINT"]; !ok {
				delete(env, "PLAYINTEGRITY_ENDPOINT")
				env["PLAYINTEGRITY_CREDENTIALS_SECRET"] = "play"
			}
			for k, v := range c.env {
				env[k] = v
			}
			var logs syncbuf.Buffer
			opt := Options{Publisher: &queue.Memory{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
				Secrets: secrets.NewMemory(map[string]string{"keys": `{"api_keys":[]}`, "play": "{}",
					"creds": `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`})}
			if c.local {
				opt.Ledger = ledger.NewMemory(nil)
			} else {
				opt.Ledger = deployedLedger{ledger.NewMemory(nil), ledger.NewAttestMemory(nil)}
			}
			f, err := Ingest(context.Background(), settings.FromMap(env), opt)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want an error naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			testclose.Cleanup(t, f)
			w := httptest.NewRecorder()
			f.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/attest/v1/challenge", strings.NewReader(`{"source":"ios"}`)))
			if c.warn != "" && !strings.Contains(logs.String(), `"setting":"`+c.warn+`"`) {
				t.Errorf("no warning naming %s: %s", c.warn, logs.String())
			}
			if c.warn == "" && strings.Contains(logs.String(), "test_endpoint_allowed") {
				t.Errorf("a warning on the local stack: %s", logs.String())
			}
		})
	}
}

func testRoot(t *testing.T) []byte {
	t.Helper()
	return fakeattest.TestRootPEM()
}
