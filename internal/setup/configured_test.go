package setup

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"eventrelay.dev/eventrelay/internal/testclose"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/e2e"
	"eventrelay.dev/eventrelay/internal/fakesecrets"
	"eventrelay.dev/eventrelay/internal/moto"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/mcmsink"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// errorsNaming counts the error lines of a JSON log that name name.
func errorsNaming(log, name string) int {
	n := 0
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, name) {
			n++
		}
	}
	return n
}

// secretStore is the cloud side of the test: the fake server, written to
// as an operator adding a value would.
type secretStore struct {
	name func(id string) string // the secret's name as Terraform passes it
	set  func(name, value string)
}

// localSecrets starts the Secret Manager stand-in (gcp), the Secrets
// Manager stand-in (aws) or moto_server (aws-moto) and sets the
// environment for the real client to reach it.
func localSecrets(t *testing.T, cloud string) (map[string]string, secretStore) {
	switch cloud {
	case "gcp":
		fake, err := fakesecrets.StartGCP()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fake.Close)
		return map[string]string{"SECRETS_BACKEND": "gcp", "SECRETMANAGER_EMULATOR_HOST": fake.Addr},
			secretStore{name: func(id string) string { return "projects/proj-local/secrets/eventrelay-" + id }, set: fake.Set}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	env := map[string]string{"SECRETS_BACKEND": "aws", "AWS_REGION": "us-east-1"}
	name := func(id string) string { return "eventrelay/" + id }
	if cloud == "aws" {
		fake := fakesecrets.StartAWS()
		t.Cleanup(fake.Close)
		t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", fake.URL)
		return env, secretStore{name: name, set: fake.Set}
	}
	// moto_server, as Terraform leaves the secrets: created, no version
	// (GetSecretValue: "can't find the specified secret value for staging
	// label: AWSCURRENT").
	url := moto.Start(t)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
	client := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx := context.Background()
	for _, id := range []string{"mcm-api-key", "dfinery-keys", "ingest-api-keys", "ingest-signing-keys", "pii-salt"} {
		if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name(id))}); err != nil {
			t.Fatal(err)
		}
	}
	return env, secretStore{name: name, set: func(n, v string) {
		if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(n), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}}
}

// postTo is post with the exchange checked against fn's contract
// (api/openapi.yaml).
func postTo(t *testing.T, fn apicontract.Function, h http.Handler, header http.Header, body string) *httptest.ResponseRecorder {
	t.Helper()
	return post(t, apicontract.Wrap(t, fn, h), header, body)
}

func post(t *testing.T, h http.Handler, header http.Header, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header = header
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The one apply: each function starts while its secrets exist but hold no
// value, answers not_configured, and serves once the operator adds the
// values, with no restart (SECRETS_CACHE_TTL=1s, the shortest allowed).
func TestStartsWithoutSecretValues(t *testing.T) {
	for _, cloud := range []string{"gcp", "aws", "aws-moto"} {
		t.Run(cloud, func(t *testing.T) {
			env, store := localSecrets(t, cloud)
			env["SECRETS_CACHE_TTL"] = "1s"
			salt, apiKeys := store.name("pii-salt"), store.name("ingest-api-keys")
			// Every request is served on this goroutine: a plain buffer will do.
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			ctx := context.Background()

			with := func(extra map[string]string) *settings.Env {
				m := map[string]string{}
				for k, v := range env {
					m[k] = v
				}
				for k, v := range extra {
					m[k] = v
				}
				return settings.FromMap(m)
			}

			// ingest
			ing, err := Ingest(ctx, with(map[string]string{"INGEST_API_KEYS_SECRET": apiKeys,
				"INGEST_SIGNING_KEYS_SECRET": store.name("ingest-signing-keys"), "PII_SALT_SECRET": salt}),
				Options{Publisher: &queue.Memory{}, Logger: log})
			if err != nil {
				t.Fatalf("ingest did not start with empty secrets: %v", err)
			}
			testclose.Cleanup(t, ing)
			w := postTo(t, apicontract.Ingest, ing.Handler, http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {"a.b"}}, `[]`)
			var refusal struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &refusal); err != nil {
				t.Fatal(err)
			}
			if w.Code != http.StatusServiceUnavailable || refusal.Error != ReasonNotConfigured || w.Header().Get("Retry-After") != "1" {
				t.Fatalf("ingest before the values: %d %s Retry-After=%q", w.Code, w.Body, w.Header().Get("Retry-After"))
			}
			if n := errorsNaming(logs.String(), salt); n != 1 {
				t.Fatalf("%d error lines name %s, want 1:\n%s", n, salt, logs.String())
			}

			// verify, on the same salt
			fail := verifyFailure{}
			ver, err := Verify(ctx, with(map[string]string{"DFINERY_KEYS_SECRET": store.name("dfinery-keys"), "PII_SALT_SECRET": salt}),
				Options{Ledger: ledger.NewMemory(nil), Logger: log})
			if err != nil {
				t.Fatalf("verify did not start with empty secrets: %v", err)
			}
			testclose.Cleanup(t, ver)
			if w := postTo(t, apicontract.Verify, ver.Handler, http.Header{"Content-Type": {"application/json"}}, `{}`); !fail.is(w, http.StatusUnprocessableEntity, ReasonNotConfigured) ||
				w.Header().Get("Retry-After") != "1" {
				t.Fatalf("verify before the values: %d %s", w.Code, w.Body)
			}

			// forwarder (the Pub/Sub push handler), against the MCM stand-in
			sink := mcmsink.New(mcmsink.Config{PlatformID: "plat-local", APIKey: "mcm-key-1"})
			mcm := httptest.NewServer(sink)
			defer mcm.Close()
			fwd, err := NewForwarder(ctx, with(map[string]string{"QUEUE_BACKEND": "pubsub", "MCM_BASE_URL": mcm.URL,
				"MCM_PLATFORM_ID": "plat-local", "MCM_API_KEY_SECRET": store.name("mcm-api-key")}),
				Options{DeadLetter: &queue.Memory{}, Logger: log})
			if err != nil {
				t.Fatalf("forwarder did not start with an empty key secret: %v", err)
			}
			testclose.Cleanup(t, fwd)
			at := time.Now()
			ev, _ := json.Marshal(e2e.Events("one-apply", "ANDROID", 1, at)[0])
			push := `{"subscription":"projects/proj-local/subscriptions/events","deliveryAttempt":1,"message":{"messageId":"m1","data":"` +
				base64.StdEncoding.EncodeToString(ev) + `"}}`
			if w := postTo(t, apicontract.Forwarder, fwd.Handler, http.Header{"Content-Type": {"application/json"}}, push); w.Code != http.StatusServiceUnavailable ||
				!strings.Contains(w.Body.String(), ReasonNotConfigured) || w.Header().Get("Retry-After") == "" {
				t.Fatalf("forwarder before the key: %d %s", w.Code, w.Body)
			}

			// The operator adds the values.
			store.set(salt, "0123456789abcdef0123456789abcdef")
			presented, stored, _ := auth.NewAPIKey("shop-1", "shop")
			file, _ := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{stored}})
			store.set(apiKeys, string(file))
			store.set(store.name("dfinery-keys"), `["0b6a5b1e-8c0f-4d7e-9b65-6f1f5d3c2a10"]`)
			store.set(store.name("mcm-api-key"), "mcm-key-1")

			// Within about one TTL each serves, the same handler, no restart.
			batch := `[` + string(ev) + `]`
			e2e.WaitFor(t, "ingest to serve", 30*time.Second, func() bool {
				w := postTo(t, apicontract.Ingest, ing.Handler, http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {presented}}, batch)
				return w.Code == http.StatusAccepted
			})
			e2e.WaitFor(t, "verify to serve", 30*time.Second, func() bool {
				return fail.is(postTo(t, apicontract.Verify, ver.Handler, http.Header{"Content-Type": {"application/json"}}, `{}`), http.StatusUnauthorized, "unsigned")
			})
			e2e.WaitFor(t, "the forwarder to deliver", 30*time.Second, func() bool {
				return postTo(t, apicontract.Forwarder, fwd.Handler, http.Header{"Content-Type": {"application/json"}}, push).Code == http.StatusNoContent
			})
			if got := sink.Accepted(); len(got) != 1 {
				t.Fatalf("MCM got %d events, want 1", len(got))
			}
		})
	}
}

// verifyFailure reads verify's default failure answer, {"result":"failure","reason":...}.
type verifyFailure struct{}

func (verifyFailure) is(w *httptest.ResponseRecorder, status int, reason string) bool {
	body, _ := io.ReadAll(w.Body)
	var a struct{ Result, Reason string }
	if err := json.Unmarshal(body, &a); err != nil {
		return false
	}
	return w.Code == status && a.Result == "failure" && a.Reason == reason
}

// The gate on its own, on a clock: it looks again once per retry only, a
// value that is there but wrong keeps it refusing (with an error line), and
// once built it serves without reading the secrets again.
func TestAwaitSecretsRetries(t *testing.T) {
	src := secrets.NewMemory(nil)
	clock := time.Unix(1_800_000_000, 0)
	var logs bytes.Buffer
	builds := 0
	g := &awaitSecrets{src: src, required: []string{"salt"}, anyOf: []string{"api", "signing"}, retry: time.Minute,
		log: slog.New(slog.NewJSONHandler(&logs, nil)), now: func() time.Time { return clock },
		refuse: notConfiguredJSON(time.Minute),
		build: func(ctx context.Context) (http.Handler, error) {
			builds++
			salt, _ := src.Get(ctx, "salt")
			if len(salt) < 16 {
				return nil, errors.New("config: PII_SALT_SECRET: salt too short")
			}
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }), nil
		}}
	h, err := g.start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := errorsNaming(logs.String(), "salt, api or signing"); n != 1 {
		t.Fatalf("want one error line naming the salt and the key secrets:\n%s", logs.String())
	}
	serve := func() int { return post(t, h, http.Header{}, "").Code }

	src.Set("salt", "short")
	src.Set("signing", "{}")
	if code := serve(); code != http.StatusServiceUnavailable || builds != 0 {
		t.Fatalf("before the retry interval: %d, %d builds", code, builds)
	}
	clock = clock.Add(time.Minute)
	if code := serve(); code != http.StatusServiceUnavailable || builds != 1 || errorsNaming(logs.String(), "salt too short") != 1 {
		t.Fatalf("a wrong value: %d, %d builds, log:\n%s", code, builds, logs.String())
	}
	src.Set("salt", "0123456789abcdef")
	if code := serve(); code != http.StatusServiceUnavailable || builds != 1 {
		t.Fatalf("within the interval again: %d, %d builds", code, builds)
	}
	clock = clock.Add(time.Minute)
	if code := serve(); code != http.StatusTeapot || builds != 2 {
		t.Fatalf("after the fix: %d, %d builds", code, builds)
	}
	reads := src.Reads("salt")
	for range 3 {
		serve()
	}
	if src.Reads("salt") != reads || builds != 2 {
		t.Fatal("the gate read the secrets again once serving")
	}
}
