package ingest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/queue"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// attestHarness is the usual harness with source shop under the given
// attestation policy, and a credential for shop.
func attestHarness(t testing.TB, policy auth.Policy) (*harness, string) {
	stored := auth.HashAPIKey("shop-2026a", "shop", "supersecretvalue", []byte("0123456789abcdef"))
	keys, _ := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{stored}})
	src := secrets.NewMemory(map[string]string{"keys": string(keys),
		"creds": `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`})
	now := func() time.Time { return testNow }
	ck := credential.NewKeys(src, "creds", now)
	authn, err := auth.New(auth.Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "keys", Now: now,
		Attestation: &auth.Attestation{Keys: ck, Policies: map[string]auth.Policy{"shop": policy}}})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := ck.Mint(context.Background(), credential.Claims{Source: "shop", Subject: credential.Subject("apple", "k"),
		Via: "apple_assert", Issued: testNow.Unix(), Expires: testNow.Add(30 * time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(&testing.T{}, func(c *Config) { c.DedupeWindow = 0 })
	h.svc.auth = authn
	return h, cred
}

func TestIngestAttestationRequire(t *testing.T) {
	h, cred := attestHarness(t, auth.PolicyRequire)
	rec, _ := h.post(t, purchase("evt-1"), nil)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"attestation_required"`) {
		t.Fatalf("API key alone: %d %s", rec.Code, rec.Body)
	}
	rec, resp := h.post(t, purchase("evt-1"), map[string]string{"X-Api-Key": "", auth.HeaderAttestation: cred})
	if rec.Code != http.StatusAccepted || len(resp.Accepted) != 1 {
		t.Fatalf("credential: %d %s", rec.Code, rec.Body)
	}
	if got := h.pub.Messages()[0].Attributes[queue.AttrSource]; got != "shop" {
		t.Errorf("published for source %q", got)
	}
}

// BenchmarkIngestCredential compares one-event requests authenticated by an
// API key with the same requests authenticated by an attestation credential
// (policy require): the credential's per-request cost is one HMAC-SHA256
// and a small JSON decode the first time, a cache look-up afterwards. The
// two kinds alternate request by request, so a shared machine's load
// drifts over both alike; it reports each kind's time per request and the
// credential's overhead in percent.
func BenchmarkIngestCredential(b *testing.B) {
	h, cred := attestHarness(b, auth.PolicyRequire)
	h.svc.pub = queue.Discard{}
	hOff, _ := attestHarness(b, auth.PolicyOff)
	hOff.svc.pub = queue.Discard{}
	body := purchase("")
	one := func(h *harness, header, value string) time.Duration {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(header, value)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.svc.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return d
	}
	var withKey, withCred time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			withKey += one(hOff, "X-Api-Key", apiKey)
			withCred += one(h, auth.HeaderAttestation, cred)
		} else {
			withCred += one(h, auth.HeaderAttestation, cred)
			withKey += one(hOff, "X-Api-Key", apiKey)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(withKey.Nanoseconds())/n, "ns/req-api-key")
	b.ReportMetric(float64(withCred.Nanoseconds())/n, "ns/req-credential")
	b.ReportMetric(100*(float64(withCred)-float64(withKey))/float64(withKey), "%-overhead")
}
