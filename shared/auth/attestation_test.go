package auth

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

const credKeys = `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`

// newAttestAuth: sources shop (API key above), and per policy a source of
// that name; the API key belongs to shop, whose policy the test picks.
func newAttestAuth(t testing.TB, clock *time.Time, shopPolicy Policy, logs *bytes.Buffer) (*Authenticator, *credential.Keys) {
	t.Helper()
	src := secrets.NewMemory(map[string]string{
		"keys":    `{"api_keys":[{"id":"shop-2026a","source":"shop","salt":"` + vectorSalt + `","sha256":"` + vectorKeyHash + `"}]}`,
		"signing": `{"signing_keys":[{"source":"shop","secret":"` + vectorSecret + `"}]}`,
		"creds":   credKeys,
	})
	nowFn := func() time.Time { return *clock }
	keys := credential.NewKeys(src, "creds", nowFn)
	a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "keys", SigningKeysSecret: "signing", Now: nowFn,
		Attestation: &Attestation{Keys: keys, Policies: map[string]Policy{"shop": shopPolicy},
			Logger: slog.New(slog.NewJSONHandler(logs, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	return a, keys
}

func mint(t testing.TB, k *credential.Keys, source string, now time.Time, ttl time.Duration) string {
	t.Helper()
	c, err := k.Mint(context.Background(), credential.Claims{Source: source, Subject: "abc", Via: "apple_attest",
		Issued: now.Unix(), Expires: now.Add(ttl).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAttestationPolicies(t *testing.T) {
	type cred int
	const (
		none cred = iota
		valid
		expired
		garbage
		otherSource
	)
	cases := []struct {
		policy  Policy
		cred    cred
		apiKey  bool
		reason  string // "" = accepted
		verdict string // on the principal, and logged
	}{
		{PolicyOff, none, true, "", ""},
		{PolicyOff, garbage, true, "", ""},
		{PolicyMonitor, none, true, "", VerdictMissing},
		{PolicyMonitor, valid, true, "", VerdictValid},
		{PolicyMonitor, expired, true, "", VerdictExpired},
		{PolicyMonitor, garbage, true, "", VerdictInvalid},
		{PolicyMonitor, otherSource, true, "", VerdictInvalid},
		{PolicyRequire, none, true, ReasonAttestationRequired, VerdictMissing},
		{PolicyRequire, valid, true, "", VerdictValid},
		{PolicyRequire, expired, true, ReasonAttestationExpired, VerdictExpired},
		{PolicyRequire, garbage, true, ReasonAttestationInvalid, VerdictInvalid},
		{PolicyRequire, otherSource, true, ReasonAttestationInvalid, VerdictInvalid},
		// The credential alone authenticates, whatever the policy; a bad one
		// is refused since nothing else vouches for the caller.
		{PolicyRequire, valid, false, "", VerdictValid},
		{PolicyOff, valid, false, "", VerdictValid},
		{PolicyMonitor, expired, false, ReasonAttestationExpired, VerdictExpired},
		{PolicyOff, garbage, false, ReasonAttestationInvalid, ""},
		{PolicyRequire, none, false, ReasonMissing, ""},
	}
	for _, c := range cases {
		name := string(c.policy) + "/" + []string{"none", "valid", "expired", "garbage", "other-source"}[c.cred]
		if !c.apiKey {
			name += "/alone"
		}
		t.Run(name, func(t *testing.T) {
			clock := now
			var logs bytes.Buffer
			a, keys := newAttestAuth(t, &clock, c.policy, &logs)
			h := http.Header{}
			if c.apiKey {
				h.Set("X-Api-Key", "shop-2026a.supersecretvalue")
			}
			switch c.cred {
			case valid:
				h.Set(HeaderAttestation, mint(t, keys, "shop", clock, 10*time.Minute))
			case expired:
				h.Set(HeaderAttestation, mint(t, keys, "shop", clock.Add(-time.Hour), 10*time.Minute))
			case garbage:
				h.Set(HeaderAttestation, "er1.c1.e30."+strings.Repeat("A", 43))
			case otherSource:
				h.Set(HeaderAttestation, mint(t, keys, "web", clock, 10*time.Minute))
			}
			p, err := a.Authenticate(context.Background(), h, []byte(vectorBody))
			if got := reason(err); got != c.reason {
				t.Fatalf("reason %q, want %q (%v)", got, c.reason, err)
			}
			if err == nil && p.Source != "shop" {
				t.Errorf("source %q", p.Source)
			}
			if err == nil && p.Attestation != c.verdict {
				t.Errorf("verdict %q, want %q", p.Attestation, c.verdict)
			}
			if err != nil && err.(*Error).Status() != http.StatusUnauthorized {
				t.Errorf("status %d", err.(*Error).Status())
			}
			logged := strings.Contains(logs.String(), `"verdict":"`+c.verdict+`"`)
			if c.verdict != "" && c.policy != PolicyOff && !logged {
				t.Errorf("verdict %q not logged: %s", c.verdict, logs.String())
			}
			if c.policy == PolicyOff && logs.Len() > 0 {
				t.Errorf("policy off logged: %s", logs.String())
			}
		})
	}
}

// A proxy's Authorization header of another scheme does not hide the
// credential.
func TestCredentialBesideForeignAuthorization(t *testing.T) {
	clock := now
	var logs bytes.Buffer
	a, keys := newAttestAuth(t, &clock, PolicyRequire, &logs)
	h := http.Header{}
	h.Set("Authorization", "Basic cHJveHk6cHJveHk=")
	h.Set(HeaderAttestation, mint(t, keys, "shop", clock, time.Minute))
	if p, err := a.Authenticate(context.Background(), h, nil); err != nil || p.Method != "attestation" {
		t.Fatalf("%+v %v", p, err)
	}
}

// A signed request refused for want of a credential may be sent again with
// one: the refusal must not burn its signature.
func TestRequireReleasesSignature(t *testing.T) {
	clock := now
	var logs bytes.Buffer
	a, keys := newAttestAuth(t, &clock, PolicyRequire, &logs)
	h := http.Header{}
	h.Set(HeaderSource, "shop")
	h.Set(HeaderSignature, "t=1795348800,v1="+vectorSignature)
	if _, err := a.Authenticate(context.Background(), h, []byte(vectorBody)); reason(err) != ReasonAttestationRequired {
		t.Fatalf("without credential: %v", err)
	}
	h.Set(HeaderAttestation, mint(t, keys, "shop", clock, time.Minute))
	if p, err := a.Authenticate(context.Background(), h, []byte(vectorBody)); err != nil || p.Method != "signature" {
		t.Fatalf("with credential: %+v %v", p, err)
	}
}

func TestAttestationKeysUnavailable(t *testing.T) {
	clock := now
	src := secrets.NewMemory(nil)
	a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, Now: func() time.Time { return clock },
		Attestation: &Attestation{Keys: credential.NewKeys(src, "creds", nil)}})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderAttestation, "er1.c1.e30."+strings.Repeat("A", 43))
	_, err = a.Authenticate(context.Background(), h, nil)
	if reason(err) != ReasonUnavailable || err.(*Error).Status() != http.StatusServiceUnavailable {
		t.Fatalf("got %v", err)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"off", "monitor", "require"} {
		if p, err := ParsePolicy(s); err != nil || string(p) != s {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParsePolicy("strict"); err == nil {
		t.Error("strict accepted")
	}
}

// BenchmarkAuthenticate: the per-request cost of each way in, the
// credential verified once and then served from the cache.
func BenchmarkAuthenticate(b *testing.B) {
	clock := now
	var logs bytes.Buffer
	a, keys := newAttestAuth(b, &clock, PolicyOff, &logs)
	cred := mint(b, keys, "shop", clock, time.Hour)
	for name, h := range map[string]http.Header{
		"api_key":    {"X-Api-Key": {"shop-2026a.supersecretvalue"}},
		"credential": {HeaderAttestation: {cred}},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(context.Background(), h, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Under monitor, our own key store failing refuses nothing; under require
// it is a 503, as for the API keys.
func TestAttestationKeysUnavailableByPolicy(t *testing.T) {
	for _, c := range []struct {
		policy Policy
		reason string
	}{{PolicyMonitor, ""}, {PolicyRequire, ReasonUnavailable}} {
		clock := now
		var logs bytes.Buffer
		src := secrets.NewMemory(map[string]string{
			"keys": `{"api_keys":[{"id":"shop-2026a","source":"shop","salt":"` + vectorSalt + `","sha256":"` + vectorKeyHash + `"}]}`})
		a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "keys", Now: func() time.Time { return clock },
			Attestation: &Attestation{Keys: credential.NewKeys(src, "creds", nil), Policies: map[string]Policy{"shop": c.policy},
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))}})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("X-Api-Key", "shop-2026a.supersecretvalue")
		h.Set(HeaderAttestation, "er1.c1.e30."+strings.Repeat("A", 43))
		p, err := a.Authenticate(context.Background(), h, nil)
		if reason(err) != c.reason {
			t.Errorf("%s: %v, want %q", c.policy, err, c.reason)
		}
		if c.policy == PolicyMonitor && (p.Attestation != VerdictUnavailable || !strings.Contains(logs.String(), `"verdict":"unavailable"`)) {
			t.Errorf("monitor: verdict %q, logs %s", p.Attestation, logs.String())
		}
	}
}
