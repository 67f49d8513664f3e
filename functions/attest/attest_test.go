package attest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	pi "google.golang.org/api/playintegrity/v1"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/appcheck"
	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/secrets"
)

const (
	appID    = "TEAMID1234.com.example.shop"
	pkg      = "com.example.shop"
	cert     = "c2lnbmluZy1jZXJ0aWZpY2F0ZS1kaWdlc3Q"
	project  = "acme-events-test"
	fbNumber = "123456789012"
	fbApp    = "1:123456789012:android:0a1b2c3d4e5f"
)

type harness struct {
	svc      *Service
	cfg      Config
	deps     Deps
	from     string // the client address requests come from
	appCheck *fakeattest.AppCheck
	keys     *credential.Keys
	apple    *fakeattest.Apple
	play     *fakeattest.Play
	clock    *time.Time
}

// newHarness is an exchange whose clients have a generous request budget
// (the flood tests set their own with newHarnessWith).
func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, func(c *Config) { c.ClientRate = 10000 })
}

func newHarnessWith(t testing.TB, edit func(*Config)) *harness {
	t.Helper()
	clock := time.Now()
	now := func() time.Time { return clock }
	apple, err := fakeattest.NewApple()
	if err != nil {
		t.Fatal(err)
	}
	roots, _ := appattest.PoolFromPEM(fakeattest.TestRootPEM())
	play := fakeattest.NewPlay(project)
	srv := httptest.NewServer(play)
	t.Cleanup(srv.Close)
	pv, err := playintegrity.New(context.Background(), playintegrity.Config{Endpoint: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	pv.Now = now
	ac, err := fakeattest.NewAppCheck()
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(ac)
	t.Cleanup(jwks.Close)
	src := secrets.NewMemory(map[string]string{"creds": `{"credential_keys":[{"id":"c1","secret":"0123456789abcdef0123456789abcdef"}]}`})
	keys := credential.NewKeys(src, "creds", now)
	cfg := Config{Sources: map[string]Source{
		"shop": {Apple: &Apple{AppIDs: []string{appID}, Env: appattest.Production}, Android: &playintegrity.Policy{PackageNames: []string{pkg}, CertDigests: []string{cert}},
			Firebase: &appcheck.Policy{ProjectNumber: fbNumber, AppIDs: []string{fbApp}}},
		"ios-only": {Apple: &Apple{AppIDs: []string{appID}, Env: appattest.Production}},
	}}
	edit(&cfg)
	cfg = withDefaults(cfg)
	deps := Deps{State: ledger.NewAttestMemory(now), Keys: keys, Apple: &appattest.Verifier{Roots: roots}, Play: pv,
		AppCheck: &appcheck.Verifier{URL: jwks.URL}, Now: now}
	svc, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{svc: svc, cfg: cfg, deps: deps, from: "192.0.2.1:40000", appCheck: ac, keys: keys, apple: apple, play: play, clock: &clock}
}

// another is a second instance beside h's: same state store, keys and
// platforms, its own memory; edit changes its settings.
func (h *harness) another(t testing.TB, edit func(*Config)) *harness {
	t.Helper()
	cfg := h.cfg
	edit(&cfg)
	svc, err := New(withDefaults(cfg), h.deps)
	if err != nil {
		t.Fatal(err)
	}
	o := *h
	o.svc, o.cfg = svc, cfg
	return &o
}

func (h *harness) post(t testing.TB, route string, req Request) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(req)
	r := httptest.NewRequest(http.MethodPost, "/attest/v1/"+route, strings.NewReader(string(b)))
	r.Header.Set("Content-Type", "application/json") // as attestclient sends it
	r.RemoteAddr = h.from
	w := httptest.NewRecorder()
	var handler http.Handler = h.svc
	if _, bench := t.(*testing.B); !bench { // a benchmark measures the exchange alone
		handler = apicontract.Wrap(t, apicontract.Ingest, h.svc)
	}
	handler.ServeHTTP(w, r)
	var out map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", w.Code, err, w.Body)
	}
	if out == nil {
		out = map[string]string{}
	}
	return w.Code, out
}

func (h *harness) challenge(t testing.TB, source string) string {
	t.Helper()
	code, out := h.post(t, "challenge", Request{Source: source})
	if code != http.StatusOK || out["challenge"] == "" {
		t.Fatalf("challenge: %d %v", code, out)
	}
	return out["challenge"]
}

// wantCredential checks a 200 with a credential for source.
func (h *harness) wantCredential(t testing.TB, code int, out map[string]string, source string) credential.Claims {
	t.Helper()
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, out)
	}
	c, err := h.keys.Verify(context.Background(), out["credential"])
	if err != nil || c.Source != source || out["header"] != "X-Eventrelay-Attestation" {
		t.Fatalf("credential %v: %+v %v", out, c, err)
	}
	return c
}

func wantRefusal(t testing.TB, code int, out map[string]string, status int, reason string) {
	t.Helper()
	if code != status || out["error"] != reason {
		t.Fatalf("got %d %v; want %d %s", code, out, status, reason)
	}
}

func (h *harness) attest(t testing.TB, d *fakeattest.Device, source, challenge string, tamper func(*fakeattest.Attestation)) (int, map[string]string) {
	t.Helper()
	obj, err := h.apple.Attest(d, appattest.ClientDataHash([]byte(challenge)), fakeattest.AAGUIDProduction, tamper)
	if err != nil {
		t.Fatal(err)
	}
	return h.post(t, "apple/attest", Request{Source: source, Challenge: challenge,
		KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Attestation: base64.StdEncoding.EncodeToString(obj)})
}

func (h *harness) assert(t testing.TB, d *fakeattest.Device, source, challenge string, tamper func(*fakeattest.Assertion)) (int, map[string]string) {
	t.Helper()
	a, err := d.Assert([]byte(challenge), tamper)
	if err != nil {
		t.Fatal(err)
	}
	return h.post(t, "apple/assert", Request{Source: source, Challenge: challenge,
		KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Assertion: base64.StdEncoding.EncodeToString(a)})
}

func TestAppleFlow(t *testing.T) {
	h := newHarness(t)
	d, _ := fakeattest.NewDevice(appID)
	c := h.challenge(t, "shop")
	code, out := h.attest(t, d, "shop", c, nil)
	first := h.wantCredential(t, code, out, "shop")
	if first.Via != "apple_attest" {
		t.Errorf("via %q", first.Via)
	}
	// The same challenge again: spent.
	code, out = h.attest(t, d, "shop", c, nil)
	wantRefusal(t, code, out, http.StatusUnauthorized, ReasonChallengeInvalid)
	// The same key attested twice.
	code, out = h.attest(t, d, "shop", h.challenge(t, "shop"), nil)
	wantRefusal(t, code, out, http.StatusUnauthorized, ReasonKeyExists)
	// Assertions: a fresh challenge each, counter going up.
	for range 3 {
		code, out = h.assert(t, d, "shop", h.challenge(t, "shop"), nil)
		if c := h.wantCredential(t, code, out, "shop"); c.Via != "apple_assert" || c.Subject != first.Subject {
			t.Errorf("assert claims %+v; subject should stay %s", c, first.Subject)
		}
	}
	// An assertion replayed for another challenge does not verify.
	c2 := h.challenge(t, "shop")
	a, _ := d.Assert([]byte(c2), nil)
	code, out = h.post(t, "apple/assert", Request{Source: "shop", Challenge: h.challenge(t, "shop"),
		KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Assertion: base64.StdEncoding.EncodeToString(a)})
	wantRefusal(t, code, out, http.StatusUnauthorized, appattest.ReasonBadSignature)
	// A counter going backwards.
	code, out = h.assert(t, d, "shop", h.challenge(t, "shop"), func(p *fakeattest.Assertion) { p.Counter = 2 })
	wantRefusal(t, code, out, http.StatusUnauthorized, appattest.ReasonCounterReplay)
	// A key never attested.
	stranger, _ := fakeattest.NewDevice(appID)
	code, out = h.assert(t, stranger, "shop", h.challenge(t, "shop"), nil)
	wantRefusal(t, code, out, http.StatusUnauthorized, ReasonKeyUnknown)
	// A key attested for shop asserting for ios-only.
	code, out = h.assert(t, d, "ios-only", h.challenge(t, "ios-only"), nil)
	wantRefusal(t, code, out, http.StatusUnauthorized, ReasonKeyUnknown)
}

func TestAppleRefusals(t *testing.T) {
	h := newHarness(t)
	other, _, _ := fakeattest.NewAppleWithOwnRoot()
	cases := []struct {
		name   string
		run    func(d *fakeattest.Device) (int, map[string]string)
		status int
		reason string
	}{
		{"wrong RP ID", func(d *fakeattest.Device) (int, map[string]string) {
			return h.attest(t, d, "shop", h.challenge(t, "shop"), func(p *fakeattest.Attestation) { p.RPAppID = "OTHERTEAM.com.example.shop" })
		}, 401, appattest.ReasonWrongRPID},
		{"chain to another root", func(d *fakeattest.Device) (int, map[string]string) {
			c := h.challenge(t, "shop")
			obj, _ := other.Attest(d, appattest.ClientDataHash([]byte(c)), fakeattest.AAGUIDProduction, nil)
			return h.post(t, "apple/attest", Request{Source: "shop", Challenge: c, KeyID: base64.StdEncoding.EncodeToString(d.KeyID),
				Attestation: base64.StdEncoding.EncodeToString(obj)})
		}, 401, appattest.ReasonBadChain},
		{"challenge of another source", func(d *fakeattest.Device) (int, map[string]string) {
			return h.attest(t, d, "shop", h.challenge(t, "ios-only"), nil)
		}, 401, ReasonChallengeSource},
		{"stale challenge", func(d *fakeattest.Device) (int, map[string]string) {
			c := h.challenge(t, "shop")
			*h.clock = h.clock.Add(6 * time.Minute)
			return h.attest(t, d, "shop", c, nil)
		}, 401, ReasonChallengeInvalid},
		{"challenge never issued", func(d *fakeattest.Device) (int, map[string]string) {
			return h.attest(t, d, "shop", "bm90LWlzc3VlZA", nil)
		}, 401, ReasonChallengeInvalid},
		{"challenge forged in the issued shape", func(d *fakeattest.Device) (int, map[string]string) {
			return h.attest(t, d, "shop", strings.Repeat("A", ChallengeChars), nil)
		}, 401, ReasonChallengeInvalid},
		{"attestation not base64", func(d *fakeattest.Device) (int, map[string]string) {
			return h.post(t, "apple/attest", Request{Source: "shop", Challenge: h.challenge(t, "shop"),
				KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Attestation: "%%%"})
		}, 400, ReasonBadRequest},
		{"oversized attestation", func(d *fakeattest.Device) (int, map[string]string) {
			return h.post(t, "apple/attest", Request{Source: "shop", Challenge: h.challenge(t, "shop"),
				KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Attestation: strings.Repeat("A", 24<<10)})
		}, 400, ReasonBadRequest},
		{"short key id", func(d *fakeattest.Device) (int, map[string]string) {
			return h.post(t, "apple/attest", Request{Source: "shop", Challenge: h.challenge(t, "shop"), KeyID: "AAAA", Attestation: "AAAA"})
		}, 400, ReasonBadRequest},
		{"unknown source", func(d *fakeattest.Device) (int, map[string]string) {
			return h.post(t, "challenge", Request{Source: "nobody"})
		}, 400, ReasonUnknownSource},
		{"android for an iOS-only source", func(d *fakeattest.Device) (int, map[string]string) {
			return h.post(t, "android", Request{Source: "ios-only", Challenge: "x", PackageName: pkg, Token: "t"})
		}, 400, ReasonPlatformOff},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _ := fakeattest.NewDevice(appID)
			code, out := c.run(d)
			wantRefusal(t, code, out, c.status, c.reason)
		})
	}
}

func TestAndroidFlow(t *testing.T) {
	h := newHarness(t)
	c := h.challenge(t, "shop")
	token := func(c string, edit func(*pi.TokenPayloadExternal)) string {
		p := fakeattest.PlayPayload(pkg, cert, playintegrity.RequestHash(c), h.clock.UnixMilli())
		if edit != nil {
			edit(p)
		}
		return h.play.Mint(project, p)
	}
	code, out := h.post(t, "android", Request{Source: "shop", Challenge: c, PackageName: pkg, Token: token(c, nil)})
	if claims := h.wantCredential(t, code, out, "shop"); claims.Via != "play_integrity" {
		t.Errorf("via %q", claims.Via)
	}
	// Replayed: the challenge is spent.
	code, out = h.post(t, "android", Request{Source: "shop", Challenge: c, PackageName: pkg, Token: token(c, nil)})
	wantRefusal(t, code, out, 401, ReasonChallengeInvalid)
	// A token bound to an older challenge, sent with a fresh one.
	c2 := h.challenge(t, "shop")
	code, out = h.post(t, "android", Request{Source: "shop", Challenge: c2, PackageName: pkg, Token: token(c, nil)})
	wantRefusal(t, code, out, 401, playintegrity.ReasonWrongNonce)
	c3 := h.challenge(t, "shop")
	code, out = h.post(t, "android", Request{Source: "shop", Challenge: c3, PackageName: pkg,
		Token: token(c3, func(p *pi.TokenPayloadExternal) {
			p.DeviceIntegrity.DeviceRecognitionVerdict = []string{"MEETS_BASIC_INTEGRITY"}
		})})
	wantRefusal(t, code, out, 401, playintegrity.ReasonDeviceVerdict)
	c4 := h.challenge(t, "shop")
	code, out = h.post(t, "android", Request{Source: "shop", Challenge: c4, PackageName: pkg, Token: h.play.Mint("another-project", fakeattest.PlayPayload(pkg, cert, playintegrity.RequestHash(c4), h.clock.UnixMilli()))})
	wantRefusal(t, code, out, 401, playintegrity.ReasonOtherProject)
}

func TestFirebaseFlow(t *testing.T) {
	h := newHarness(t)
	c := h.appCheck.Claims(fbNumber, "acme-shop", fbApp)
	code, out := h.post(t, "firebase", Request{Source: "shop", Token: h.appCheck.Mint(c)})
	if claims := h.wantCredential(t, code, out, "shop"); claims.Via != "app_check" {
		t.Errorf("via %q", claims.Via)
	}
	// A token expiring in 5 minutes gets a credential of 5 minutes, not 30.
	c.Exp = h.clock.Add(5 * time.Minute).Unix()
	code, out = h.post(t, "firebase", Request{Source: "shop", Token: h.appCheck.Mint(c)})
	if claims := h.wantCredential(t, code, out, "shop"); claims.Expires != c.Exp {
		t.Errorf("credential expires %d, the token %d", claims.Expires, c.Exp)
	}
	c.Aud = []string{"projects/999999", "projects/other"}
	code, out = h.post(t, "firebase", Request{Source: "shop", Token: h.appCheck.Mint(c)})
	wantRefusal(t, code, out, 401, appcheck.ReasonWrongProject)
	code, out = h.post(t, "firebase", Request{Source: "ios-only", Token: h.appCheck.Mint(c)})
	wantRefusal(t, code, out, 400, ReasonPlatformOff)
}

func TestRequestShape(t *testing.T) {
	h := newHarness(t)
	for name, c := range map[string]struct {
		method, path, body string
		status             int
	}{
		"GET":          {http.MethodGet, "/attest/v1/challenge", "", 405},
		"unknown":      {http.MethodPost, "/attest/v1/nothing", `{"source":"shop"}`, 404},
		"not JSON":     {http.MethodPost, "/attest/v1/challenge", `source=shop`, 400},
		"no source":    {http.MethodPost, "/attest/v1/challenge", `{}`, 400},
		"long source":  {http.MethodPost, "/attest/v1/challenge", `{"source":"` + strings.Repeat("a", 129) + `"}`, 400},
		"oversized":    {http.MethodPost, "/attest/v1/challenge", `{"source":"` + strings.Repeat("a", maxBody) + `"}`, 413},
		"mounted next": {http.MethodPost, "/", `{}`, 418},
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			teapot := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) })
			Mount(apicontract.Wrap(t, apicontract.Ingest, h.svc), teapot).ServeHTTP(w, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
			if w.Code != c.status {
				t.Errorf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
		})
	}
}

// BenchmarkExchange: the server's side of one exchange with the memory
// backend (the device's and the platform's work excluded; for Play
// Integrity the challenge and the loopback call to the decode server are
// included). The Play Integrity
// case includes a loopback HTTP call to the local decode server.
func BenchmarkExchange(b *testing.B) {
	h := newHarness(b)
	d, _ := fakeattest.NewDevice(appID)
	code, out := h.attest(b, d, "shop", h.challenge(b, "shop"), nil)
	h.wantCredential(b, code, out, "shop")
	b.Run("apple_attest", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer() // building the object is the device's and Apple's work
			d, _ := fakeattest.NewDevice(appID)
			c := h.challenge(b, "shop")
			obj, _ := h.apple.Attest(d, appattest.ClientDataHash([]byte(c)), fakeattest.AAGUIDProduction, nil)
			req := Request{Source: "shop", Challenge: c, KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Attestation: base64.StdEncoding.EncodeToString(obj)}
			b.StartTimer()
			if code, out := h.post(b, "apple/attest", req); code != 200 {
				b.Fatal(out)
			}
		}
	})
	b.Run("apple_assert", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer() // the device's signature is not the server's work
			c := h.challenge(b, "shop")
			a, _ := d.Assert([]byte(c), nil)
			req := Request{Source: "shop", Challenge: c, KeyID: base64.StdEncoding.EncodeToString(d.KeyID), Assertion: base64.StdEncoding.EncodeToString(a)}
			b.StartTimer()
			if code, out := h.post(b, "apple/assert", req); code != 200 {
				b.Fatal(out)
			}
		}
	})
	b.Run("play_integrity", func(b *testing.B) {
		for b.Loop() {
			c := h.challenge(b, "shop")
			tok := h.play.Mint(project, fakeattest.PlayPayload(pkg, cert, playintegrity.RequestHash(c), h.clock.UnixMilli()))
			if code, out := h.post(b, "android", Request{Source: "shop", Challenge: c, PackageName: pkg, Token: tok}); code != 200 {
				b.Fatal(out)
			}
		}
	})
}
