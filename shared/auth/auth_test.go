package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// Vectors computed outside Go:
//
//	printf '%s' '1795348800.{"event_type":"HOME"}' | openssl dgst -sha256 -hmac 'shop-signing-secret-0001'
//	python3 -c "import hashlib;print(hashlib.sha256(bytes.fromhex('000102030405060708090a0b0c0d0e0f')+b'supersecretvalue').hexdigest())"
const (
	vectorBody      = `{"event_type":"HOME"}`
	vectorT         = 1795348800
	vectorSecret    = "shop-signing-secret-0001"
	vectorSignature = "39af89217c047184d38db75a04690bba798d078519e3888a1bde6fa334edb875"
	vectorSalt      = "000102030405060708090a0b0c0d0e0f"
	vectorKeyHash   = "85924ff62e2d226ab76466c2b500db1437b8c118f25d6e53745191875d63c957"
)

var now = time.Unix(vectorT, 0)

func newAuth(t testing.TB, clock *time.Time) (*Authenticator, *secrets.Memory) {
	t.Helper()
	src := secrets.NewMemory(map[string]string{
		"keys": `{"api_keys":[
			{"id":"shop-2026a","source":"shop","salt":"` + vectorSalt + `","sha256":"` + vectorKeyHash + `"},
			{"id":"old-key","source":"shop","salt":"` + vectorSalt + `","sha256":"` + vectorKeyHash + `","expires":"2026-01-01T00:00:00Z"}]}`,
		"signing": `{"signing_keys":[{"source":"shop","secret":"` + vectorSecret + `"}]}`,
	})
	a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "keys", SigningKeysSecret: "signing",
		Now: func() time.Time { return *clock }})
	if err != nil {
		t.Fatal(err)
	}
	return a, src
}

func reason(err error) string {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Reason
	}
	if err == nil {
		return ""
	}
	return "not an auth error: " + err.Error()
}

func TestAPIKeys(t *testing.T) {
	clock := now
	a, _ := newAuth(t, &clock)
	cases := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"bearer", http.Header{"Authorization": {"Bearer shop-2026a.supersecretvalue"}}, ""},
		{"x-api-key", http.Header{"X-Api-Key": {"shop-2026a.supersecretvalue"}}, ""},
		{"wrong secret", http.Header{"X-Api-Key": {"shop-2026a.supersecretvaluf"}}, ReasonInvalidKey},
		{"unknown id", http.Header{"X-Api-Key": {"nobody.supersecretvalue"}}, ReasonInvalidKey},
		{"no dot", http.Header{"X-Api-Key": {"supersecretvalue"}}, ReasonInvalidKey},
		{"empty secret", http.Header{"X-Api-Key": {"shop-2026a."}}, ReasonInvalidKey},
		{"expired key", http.Header{"X-Api-Key": {"old-key.supersecretvalue"}}, ReasonExpiredKey},
		{"basic auth is not bearer", http.Header{"Authorization": {"Basic c2hvcDpzZWNyZXQ="}}, ReasonMissing},
		{"nothing", http.Header{}, ReasonMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), c.header, nil)
			if got := reason(err); got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
			if c.want == "" && (p.Source != "shop" || p.KeyID != "shop-2026a") {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

func TestAPIKeyRotation(t *testing.T) {
	clock := now
	a, src := newAuth(t, &clock)
	newKey, stored, err := NewAPIKey("shop-2026b", "shop")
	if err != nil {
		t.Fatal(err)
	}
	// Both keys active during the rotation.
	src.Set("keys", `{"api_keys":[
		{"id":"shop-2026a","source":"shop","salt":"`+vectorSalt+`","sha256":"`+vectorKeyHash+`"},
		{"id":"`+stored.ID+`","source":"shop","salt":"`+stored.Salt+`","sha256":"`+stored.SHA256+`"}]}`)
	for _, k := range []string{"shop-2026a.supersecretvalue", newKey} {
		if _, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {k}}, nil); err != nil {
			t.Fatalf("%s during rotation: %v", k[:10], err)
		}
	}
	// The old key retired.
	src.Set("keys", `{"api_keys":[{"id":"`+stored.ID+`","source":"shop","salt":"`+stored.Salt+`","sha256":"`+stored.SHA256+`"}]}`)
	if _, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {"shop-2026a.supersecretvalue"}}, nil); reason(err) != ReasonInvalidKey {
		t.Fatalf("retired key: %v", err)
	}
	if _, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {newKey}}, nil); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
}

func signedHeader(sig string) http.Header {
	return http.Header{HeaderSource: {"shop"}, HeaderSignature: {sig}}
}

func TestSignatures(t *testing.T) {
	good := "t=1795348800,v1=" + vectorSignature
	cases := []struct {
		name   string
		header http.Header
		body   string
		skew   time.Duration
		want   string
	}{
		{"openssl vector", signedHeader(good), vectorBody, 0, ""},
		{"several v1, one good", signedHeader("t=1795348800,v1=" + strings.Repeat("ab", 32) + ",v1=" + vectorSignature), vectorBody, 0, ""},
		{"unknown scheme ignored", signedHeader(good + ",v9=zz"), vectorBody, 0, ""},
		{"tampered body", signedHeader(good), `{"event_type":"PURCHASE"}`, 0, ReasonBadSignature},
		{"wrong source", http.Header{HeaderSource: {"other"}, HeaderSignature: {good}}, vectorBody, 0, ReasonBadSignature},
		{"no source", http.Header{HeaderSignature: {good}}, vectorBody, 0, ReasonMissing},
		{"expired: 301 s late", signedHeader(good), vectorBody, 301 * time.Second, ReasonStale},
		{"from the future", signedHeader(good), vectorBody, -301 * time.Second, ReasonStale},
		{"within tolerance", signedHeader(good), vectorBody, 299 * time.Second, ""},
		{"no t", signedHeader("v1=" + vectorSignature), vectorBody, 0, ReasonBadSignature},
		{"no v1", signedHeader("t=1795348800"), vectorBody, 0, ReasonBadSignature},
		{"short v1", signedHeader("t=1795348800,v1=abcd"), vectorBody, 0, ReasonBadSignature},
		{"garbage", signedHeader("hello"), vectorBody, 0, ReasonBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := now.Add(c.skew)
			a, _ := newAuth(t, &clock) // fresh replay memory per case
			p, err := a.Authenticate(context.Background(), c.header, []byte(c.body))
			if got := reason(err); got != c.want {
				t.Fatalf("reason %q, want %q (%v)", got, c.want, err)
			}
			if c.want == "" && (p.Source != "shop" || p.Method != "signature") {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

func TestSignatureReplayAndRelease(t *testing.T) {
	clock := now
	a, _ := newAuth(t, &clock)
	h := signedHeader(Sign(now, []byte(vectorBody), vectorSecret))
	p, err := a.Authenticate(context.Background(), h, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	clock = now.Add(10 * time.Second)
	if _, err := a.Authenticate(context.Background(), h, []byte(vectorBody)); reason(err) != ReasonReplayed {
		t.Fatalf("replay: %v", err)
	}
	// After a failure we released it, the same signed request may come again.
	a.Release(p)
	if _, err := a.Authenticate(context.Background(), h, []byte(vectorBody)); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestSignatureRotation(t *testing.T) {
	clock := now
	a, src := newAuth(t, &clock)
	src.Set("signing", `{"signing_keys":[{"source":"shop","secret":"`+vectorSecret+`"},{"source":"shop","secret":"shop-signing-secret-0002"}]}`)
	// A sender mid-rotation signs with both; one with only the new one works too.
	for i, sig := range []string{
		Sign(now, []byte(vectorBody), vectorSecret, "shop-signing-secret-0002"),
		Sign(now.Add(time.Second), []byte(vectorBody), "shop-signing-secret-0002"),
	} {
		if _, err := a.Authenticate(context.Background(), signedHeader(sig), []byte(vectorBody)); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
	}
	if Sign(now, []byte(vectorBody), vectorSecret) != "t=1795348800,v1="+vectorSignature {
		t.Fatal("Sign disagrees with the openssl vector")
	}
}

type failingSource struct{}

func (failingSource) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("secret manager down")
}

func TestKeysUnavailable(t *testing.T) {
	clock := now
	src := secrets.NewMemory(nil)
	a, _ := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "api", SigningKeysSecret: "signing", Now: func() time.Time { return clock }})
	_, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {"a.b"}}, nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Reason != ReasonNotConfigured || ae.Status() != http.StatusServiceUnavailable ||
		!strings.Contains(err.Error(), "api, signing") {
		t.Fatalf("no key secret has a value: want not_configured 503 naming both, got %v", err)
	}
	// API keys only: the signing keys secret stays without a value.
	presented, stored, _ := NewAPIKey("shop-1", "shop")
	file, _ := json.Marshal(APIKeyFile{Keys: []APIKey{stored}})
	src.Set("api", string(file))
	if p, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {presented}}, nil); err != nil || p.Source != "shop" {
		t.Fatalf("API key with an unset signing keys secret: %+v %v", p, err)
	}
	src.Set("api", `{"api_keys":[{"id":"x","source":"s","salt":"00","sha256":"00"}]}`)
	if _, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {"x.b"}}, nil); reason(err) != ReasonUnavailable {
		t.Fatalf("malformed key file: %v", err)
	}
	down, _ := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: failingSource{}, APIKeysSecret: "api"})
	if _, err := down.Authenticate(context.Background(), http.Header{"X-Api-Key": {"x.b"}}, nil); reason(err) != ReasonUnavailable {
		t.Fatalf("unreadable key secret: %v", err)
	}
}
