package playintegrity

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	pi "google.golang.org/api/playintegrity/v1"

	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/attest/refusal"
)

const (
	pkg       = "com.example.shop"
	cert      = "6a6a1474b5cbbb2b1aa57e0bc3f8cb0ae9e5e5bd4b5e8c3bf0e1d1b1a1a1a1a1"
	challenge = "Q2hhbGxlbmdlLTAxMjM0NTY3ODlhYmNkZWY"
	project   = "acme-events-test"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// newVerifier is the real client against the local decode server.
func newVerifier(t testing.TB) (*Verifier, *fakeattest.Play) {
	t.Helper()
	play := fakeattest.NewPlay(project)
	srv := httptest.NewServer(play)
	t.Cleanup(srv.Close)
	v, err := New(context.Background(), Config{Endpoint: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	return v, play
}

var policy = Policy{PackageNames: []string{pkg}, CertDigests: []string{"other", cert}}

func good() *pi.TokenPayloadExternal {
	return fakeattest.PlayPayload(pkg, cert, RequestHash(challenge), now.Add(-10*time.Second).UnixMilli())
}

// Every combination of app verdict, device labels and required level.
func TestVerdictCombinations(t *testing.T) {
	v, play := newVerifier(t)
	apps := []string{PlayRecognized, "UNRECOGNIZED_VERSION", "UNEVALUATED", "UNKNOWN"}
	devices := map[string][]string{
		"none":   nil,
		"basic":  {MeetsBasic},
		"device": {MeetsBasic, MeetsDevice},
		"strong": {MeetsBasic, MeetsDevice, MeetsStrong},
		// Play Integrity's emulator verdict alone meets none of our levels.
		"virtual": {"MEETS_VIRTUAL_INTEGRITY"},
	}
	rank := map[string]int{"none": 0, "virtual": 0, "basic": 1, "device": 2, "strong": 3}
	levels := map[string]int{MeetsBasic: 1, MeetsDevice: 2, MeetsStrong: 3, "": 2}
	for _, app := range apps {
		for dname, labels := range devices {
			for level, need := range levels {
				name := fmt.Sprintf("%s/%s/require=%s", app, dname, level)
				t.Run(name, func(t *testing.T) {
					p := good()
					p.AppIntegrity.AppRecognitionVerdict = app
					p.DeviceIntegrity.DeviceRecognitionVerdict = labels
					pol := policy
					pol.DeviceVerdict = level
					got, err := v.Verify(context.Background(), pkg, play.Mint(project, p), challenge, pol)
					want := ""
					switch {
					case app != PlayRecognized:
						want = ReasonNotRecognized
					case rank[dname] < need:
						want = ReasonDeviceVerdict
					}
					if refusal.ReasonOf(err) != want {
						t.Fatalf("got %v, want %q", err, want)
					}
					if err == nil && (got.CertDigest != cert || !slices.Equal(got.Device, labels) || got.VersionCode != 42) {
						t.Errorf("verdict %+v", got)
					}
				})
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	v, play := newVerifier(t)
	otherPlay := fakeattest.NewPlay(project)
	edit := func(f func(p *pi.TokenPayloadExternal)) string {
		p := good()
		f(p)
		return play.Mint(project, p)
	}
	cases := []struct {
		name, pkg, token, challenge, reason string
	}{
		{"good", pkg, edit(func(*pi.TokenPayloadExternal) {}), challenge, ""},
		{"classic nonce", pkg, edit(func(p *pi.TokenPayloadExternal) { p.RequestDetails.RequestHash, p.RequestDetails.Nonce = "", challenge }), challenge, ""},
		{"package not configured", "com.example.evil", edit(func(*pi.TokenPayloadExternal) {}), challenge, ReasonWrongPackage},
		{"requested by another package", pkg, edit(func(p *pi.TokenPayloadExternal) { p.RequestDetails.RequestPackageName = "com.example.evil" }), challenge, ReasonWrongPackage},
		{"attests another package", pkg, edit(func(p *pi.TokenPayloadExternal) { p.AppIntegrity.PackageName = "com.example.evil" }), challenge, ReasonWrongPackage},
		{"other challenge (replayed token)", pkg, edit(func(*pi.TokenPayloadExternal) {}), "another-challenge", ReasonWrongNonce},
		{"hash of nothing", pkg, edit(func(p *pi.TokenPayloadExternal) { p.RequestDetails.RequestHash = RequestHash("") }), challenge, ReasonWrongNonce},
		{"stale", pkg, edit(func(p *pi.TokenPayloadExternal) {
			p.RequestDetails.TimestampMillis = now.Add(-6 * time.Minute).UnixMilli()
		}), challenge, ReasonStale},
		{"from the future", pkg, edit(func(p *pi.TokenPayloadExternal) {
			p.RequestDetails.TimestampMillis = now.Add(5 * time.Minute).UnixMilli()
		}), challenge, ReasonStale},
		{"wrong certificate", pkg, edit(func(p *pi.TokenPayloadExternal) { p.AppIntegrity.CertificateSha256Digest = []string{"re-signed"} }), challenge, ReasonWrongCert},
		{"no device details", pkg, edit(func(p *pi.TokenPayloadExternal) { p.DeviceIntegrity = nil }), challenge, ReasonMalformed},
		{"token for another project", pkg, play.Mint("someone-elses-project", good()), challenge, ReasonOtherProject},
		{"token Google cannot decode", pkg, otherPlay.Mint(project, good()), challenge, ReasonMalformed},
		{"garbage", pkg, "not-a-token", challenge, ReasonMalformed},
		{"empty", pkg, "", challenge, ReasonMalformed},
		{"oversized", pkg, strings.Repeat("a", MaxTokenBytes+1), challenge, ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := v.Verify(context.Background(), c.pkg, c.token, c.challenge, policy); refusal.ReasonOf(err) != c.reason {
				t.Errorf("got %v, want %q", err, c.reason)
			}
		})
	}
}

// Checks that need no decode cost no quota.
func TestCheapChecksSkipGoogle(t *testing.T) {
	v, play := newVerifier(t)
	for _, token := range []string{"", strings.Repeat("a", MaxTokenBytes+1)} {
		if _, err := v.Verify(context.Background(), pkg, token, challenge, policy); err == nil {
			t.Fatalf("a token of %d bytes was accepted", len(token))
		}
	}
	if _, err := v.Verify(context.Background(), "com.example.evil", play.Mint(project, good()), challenge, policy); err == nil {
		t.Fatal("a token for another package was accepted")
	}
	// Not the shape of a compact JWE with A256KW and A256GCM.
	enc := base64.RawURLEncoding.EncodeToString
	for _, token := range []string{"xxxxxxxxxx", "a.b.c.d.e",
		enc([]byte(`{"alg":"dir","enc":"A256GCM"}`)) + shaped()[strings.IndexByte(shaped(), '.'):],
		shaped() + "AA", shaped() + ".e30"} {
		if _, err := v.Verify(context.Background(), pkg, token, challenge, policy); err == nil {
			t.Errorf("%q accepted", token)
		}
	}
	if err := CheckToken(pkg, shaped(), policy); err != nil {
		t.Errorf("a token of the right shape refused: %v", err)
	}
	if n := play.Calls(); n != 0 {
		t.Errorf("%d decode calls for tokens refused before decoding", n)
	}
}

// shaped has the shape of a Play Integrity token (Google's token format:
// a compact JWE, A256KW and A256GCM) and nothing else.
func shaped() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"A256KW","enc":"A256GCM"}`)) + "." + enc(make([]byte, 40)) + "." + enc(make([]byte, 12)) + "." +
		enc([]byte("ciphertext")) + "." + enc(make([]byte, 16))
}

func TestGoogleDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}`)
	}))
	defer srv.Close()
	v, err := New(context.Background(), Config{Endpoint: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), pkg, shaped(), challenge, policy)
	var e *Error
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("quota exhausted: %v", err)
	}
}

func TestPolicyCheck(t *testing.T) {
	if err := policy.Check(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Policy{{CertDigests: []string{cert}}, {PackageNames: []string{pkg}},
		{PackageNames: []string{pkg}, CertDigests: []string{cert}, DeviceVerdict: "MEETS_VIRTUAL_INTEGRITY"}} {
		if p.Check() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

// FuzzVerify: arbitrary tokens through the real client and the decode
// server never panic and never pass.
func FuzzVerify(f *testing.F) {
	v, play := newVerifier(f)
	f.Add("fakepi.e30.AAAA")
	f.Add(play.Mint(project, good())[:40])
	f.Add("fakepi..")
	f.Add(shaped())
	f.Add(play.Mint(project, good()) + "A")
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := v.Verify(context.Background(), pkg, token, challenge, policy); err == nil {
			t.Fatalf("token %q accepted", token)
		}
	})
}
