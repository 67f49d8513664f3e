package appattest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/shared/attest/refusal"
)

const appID = "TEAMID1234.com.example.shop"

func TestEmbeddedRootIsApples(t *testing.T) {
	block, _ := pem.Decode([]byte(appleRootPEM))
	sum := sha256.Sum256(block.Bytes)
	// Apple's published fingerprint of the App Attestation Root CA.
	if got := hex.EncodeToString(sum[:]); got != "1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932" {
		t.Fatalf("embedded root fingerprint %s", got)
	}
	AppleRoot() // parses
}

// The attestation object published in Apple's "Validating apps that connect
// to your server" (app id 1234567890.com.example.myapp, made 2026-04-20,
// credential certificate valid until 2026-04-23), verified against Apple's
// real root at a date its certificates were valid. The guide's app passed
// the bytes "example_server_challenge" as clientDataHash, as its receipt
// records.
func TestAppleGuideSample(t *testing.T) {
	b64, err := os.ReadFile("testdata/apple-guide-attestation.b64")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		t.Fatal(err)
	}
	keyID, _ := hex.DecodeString("ce0498f58483fbb4da0d7b2c63a5a538f552d4adcb9a4fa916195c49613e655d")
	cdh := []byte("example_server_challenge")
	apps := []string{"1234567890.com.example.myapp"}
	at := func(d string) *Verifier {
		tm, _ := time.Parse(time.DateOnly, d)
		return &Verifier{Now: func() time.Time { return tm }}
	}
	got, err := at("2026-04-21").Attest(obj, cdh, keyID, apps, Production)
	if err != nil {
		t.Fatalf("Apple's sample against Apple's root: %v", err)
	}
	if got.AppID != apps[0] || len(got.Receipt) == 0 {
		t.Errorf("attested %+v", got)
	}
	for name, c := range map[string]struct {
		v    *Verifier
		cdh  []byte
		apps []string
		env  Environment
		want string
	}{
		"after the leaf expired": {at("2026-05-01"), cdh, apps, Production, ReasonBadChain},
		"other challenge":        {at("2026-04-21"), ClientDataHash(cdh), apps, Production, ReasonWrongNonce},
		"other app":              {at("2026-04-21"), cdh, []string{"1234567890.com.example.other"}, Production, ReasonWrongRPID},
		"development expected":   {at("2026-04-21"), cdh, apps, Development, ReasonWrongEnv},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.v.Attest(obj, c.cdh, keyID, c.apps, c.env); refusal.ReasonOf(err) != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}
	testRoot, _ := PoolFromPEM(fakeattest.TestRootPEM())
	v := at("2026-04-21")
	v.Roots = testRoot
	if _, err := v.Attest(obj, cdh, keyID, apps, Production); refusal.ReasonOf(err) != ReasonBadChain {
		t.Errorf("Apple's sample against the test root: %v", err)
	}
}

func newApple(t testing.TB) (*fakeattest.Apple, *Verifier) {
	t.Helper()
	apple, err := fakeattest.NewApple()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := PoolFromPEM(fakeattest.TestRootPEM())
	if err != nil {
		t.Fatal(err)
	}
	return apple, &Verifier{Roots: pool}
}

func TestAttest(t *testing.T) {
	apple, v := newApple(t)
	challenge := []byte("challenge-0123456789abcdef")
	cdh := ClientDataHash(challenge)
	for _, env := range []Environment{Production, Development} {
		d, _ := fakeattest.NewDevice(appID)
		aaguid := fakeattest.AAGUIDProduction
		if env == Development {
			aaguid = fakeattest.AAGUIDDevelopment
		}
		obj, err := apple.Attest(d, cdh, aaguid, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Attest(obj, cdh, d.KeyID, []string{"OTHER.app", appID}, env)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if got.AppID != appID || string(got.KeyID) != string(d.KeyID) {
			t.Errorf("%s: %+v", env, got)
		}
	}
}

func TestAttestRefusals(t *testing.T) {
	apple, v := newApple(t)
	otherApple, _, err := fakeattest.NewAppleWithOwnRoot()
	if err != nil {
		t.Fatal(err)
	}
	challenge := []byte("challenge-0123456789abcdef")
	cdh := ClientDataHash(challenge)
	d, _ := fakeattest.NewDevice(appID)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	build := func(a *fakeattest.Apple, tamper func(*fakeattest.Attestation)) []byte {
		obj, err := a.Attest(d, cdh, fakeattest.AAGUIDProduction, tamper)
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	good := build(apple, nil)
	cases := []struct {
		name   string
		obj    []byte
		cdh    []byte
		keyID  []byte
		reason string
	}{
		{"fmt", build(apple, func(p *fakeattest.Attestation) { p.Fmt = "packed" }), cdh, d.KeyID, ReasonWrongFormat},
		{"other app id", build(apple, func(p *fakeattest.Attestation) { p.RPAppID = "TEAMID1234.com.example.evil" }), cdh, d.KeyID, ReasonWrongRPID},
		{"counter not 0", build(apple, func(p *fakeattest.Attestation) { p.Counter = 1 }), cdh, d.KeyID, ReasonBadCounter},
		{"development key", build(apple, func(p *fakeattest.Attestation) { p.AAGUID = fakeattest.AAGUIDDevelopment }), cdh, d.KeyID, ReasonWrongEnv},
		{"credential id", build(apple, func(p *fakeattest.Attestation) { p.CredentialID = make([]byte, 32) }), cdh, d.KeyID, ReasonWrongKeyID},
		{"stale or other challenge", good, ClientDataHash([]byte("another challenge")), d.KeyID, ReasonWrongNonce},
		{"nonce not of this authData", build(apple, func(p *fakeattest.Attestation) { p.Nonce = make([]byte, 32) }), cdh, d.KeyID, ReasonWrongNonce},
		{"certified key is not the key id", build(apple, func(p *fakeattest.Attestation) { p.LeafKey = &otherKey.PublicKey }), cdh, d.KeyID, ReasonWrongKeyID},
		{"chain to another root", build(otherApple, nil), cdh, d.KeyID, ReasonBadChain},
		{"expired certificate", build(apple, func(p *fakeattest.Attestation) { p.Expired = true }), cdh, d.KeyID, ReasonBadChain},
		{"truncated", good[:len(good)/2], cdh, d.KeyID, ReasonMalformed},
		{"empty", nil, cdh, d.KeyID, ReasonMalformed},
		{"not CBOR", []byte("{\"fmt\":\"apple-appattest\"}"), cdh, d.KeyID, ReasonMalformed},
		{"oversized", append(good, make([]byte, MaxAttestationBytes)...), cdh, d.KeyID, ReasonTooLarge},
		{"trailing bytes", append(append([]byte{}, good...), 0x00), cdh, d.KeyID, ReasonMalformed},
		{"nested too deep", []byte{0xa1, 0x63, 'f', 'm', 't', 0x81, 0x81, 0x81, 0x81, 0x81, 0x00}, cdh, d.KeyID, ReasonMalformed},
		{"indefinite length", []byte{0xbf, 0x63, 'f', 'm', 't', 0x60, 0xff}, cdh, d.KeyID, ReasonMalformed},
		{"duplicate keys", []byte{0xa2, 0x63, 'f', 'm', 't', 0x60, 0x63, 'f', 'm', 't', 0x60}, cdh, d.KeyID, ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := v.Attest(c.obj, c.cdh, c.keyID, []string{appID}, Production); refusal.ReasonOf(err) != c.reason {
				t.Errorf("got %v, want %s", err, c.reason)
			}
		})
	}
	if _, err := v.Attest(good, cdh, d.KeyID, []string{appID}, Production); err != nil {
		t.Fatalf("the untampered object: %v", err)
	}
}

func TestAssert(t *testing.T) {
	apple, v := newApple(t)
	d, _ := fakeattest.NewDevice(appID)
	cdh := ClientDataHash([]byte("c1"))
	obj, _ := apple.Attest(d, cdh, fakeattest.AAGUIDProduction, nil)
	att, err := v.Attest(obj, cdh, d.KeyID, []string{appID}, Production)
	if err != nil {
		t.Fatal(err)
	}
	var last uint32
	for i := range 3 {
		data := []byte("challenge-" + string(rune('a'+i)))
		a, _ := d.Assert(data, nil)
		n, err := Assert(a, data, att.PublicKey, appID, last)
		if err != nil || n != last+1 {
			t.Fatalf("assertion %d: %d %v", i, n, err)
		}
		last = n
	}
	data := []byte("fresh")
	replayed, _ := d.Assert(data, nil)
	if _, err := Assert(replayed, data, att.PublicKey, appID, last); err != nil {
		t.Fatal(err)
	}
	last++
	other, _ := fakeattest.NewDevice(appID)
	otherObj, _ := apple.Attest(other, cdh, fakeattest.AAGUIDProduction, nil)
	otherAtt, _ := v.Attest(otherObj, cdh, other.KeyID, []string{appID}, Production)
	mk := func(tamper func(*fakeattest.Assertion)) []byte {
		a, err := d.Assert(data, tamper)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name      string
		assertion []byte
		data, pub []byte
		reason    string
	}{
		{"replayed", replayed, data, att.PublicKey, ReasonCounterReplay},
		{"counter backwards", mk(func(p *fakeattest.Assertion) { p.Counter = 1 }), data, att.PublicKey, ReasonCounterReplay},
		{"other client data", mk(nil), []byte("other"), att.PublicKey, ReasonBadSignature},
		{"other device's key", mk(nil), data, otherAtt.PublicKey, ReasonBadSignature},
		{"signed by another key", mk(func(p *fakeattest.Assertion) { p.Key = other.Key }), data, att.PublicKey, ReasonBadSignature},
		{"other app id", mk(func(p *fakeattest.Assertion) { p.RPAppID = "TEAMID1234.com.example.evil" }), data, att.PublicKey, ReasonWrongRPID},
		{"truncated", replayed[:20], data, att.PublicKey, ReasonMalformed},
		{"oversized", append(replayed, make([]byte, MaxAssertionBytes)...), data, att.PublicKey, ReasonTooLarge},
		{"no signature", []byte{0xa1, 0x71, 'a', 'u', 't', 'h', 'e', 'n', 't', 'i', 'c', 'a', 't', 'o', 'r', 'D', 'a', 't', 'a', 0x40}, data, att.PublicKey, ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Assert(c.assertion, c.data, c.pub, appID, last); refusal.ReasonOf(err) != c.reason {
				t.Errorf("got %v, want %s", err, c.reason)
			}
		})
	}
}

// FuzzAttest: arbitrary bytes never panic and never attest (a fuzzer cannot
// forge a certificate chain to the test root).
func FuzzAttest(f *testing.F) {
	apple, v := newApple(f)
	d, _ := fakeattest.NewDevice(appID)
	cdh := ClientDataHash([]byte("c"))
	good, _ := apple.Attest(d, cdh, fakeattest.AAGUIDProduction, nil)
	f.Add(good[:len(good)-1])
	f.Add([]byte{0xa3, 0x63, 'f', 'm', 't'})
	f.Add([]byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, obj []byte) {
		if _, err := v.Attest(obj, cdh, d.KeyID, []string{appID}, Production); err == nil && string(obj) != string(good) {
			t.Fatalf("forged attestation accepted")
		}
	})
}

// FuzzAssert: arbitrary bytes never panic and never pass for the device's
// signature.
func FuzzAssert(f *testing.F) {
	d, _ := fakeattest.NewDevice(appID)
	apple, v := newApple(f)
	cdh := ClientDataHash([]byte("c"))
	obj, _ := apple.Attest(d, cdh, fakeattest.AAGUIDProduction, nil)
	att, _ := v.Attest(obj, cdh, d.KeyID, []string{appID}, Production)
	good, _ := d.Assert([]byte("data"), nil)
	f.Add(good)
	f.Add(good[:10])
	f.Add([]byte{0xa2, 0x69, 's', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', 0x40})
	f.Fuzz(func(t *testing.T, a []byte) {
		if _, err := Assert(a, []byte("data"), att.PublicKey, appID, 5); err == nil {
			t.Fatalf("assertion with a counter above 5 accepted: the device only signed counter 1")
		}
	})
}

func BenchmarkAttest(b *testing.B) {
	apple, v := newApple(b)
	d, _ := fakeattest.NewDevice(appID)
	cdh := ClientDataHash([]byte("c"))
	obj, _ := apple.Attest(d, cdh, fakeattest.AAGUIDProduction, nil)
	for b.Loop() {
		if _, err := v.Attest(obj, cdh, d.KeyID, []string{appID}, Production); err != nil {
			b.Fatal(err)
		}
	}
}
