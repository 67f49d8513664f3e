package attest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/secrets"
)

// FuzzOpenChallenge: no string the exchange did not issue opens as a
// challenge (a mutated issued one included), and none panics. Each
// process (the fuzzer's workers too) signs with its own random key, so
// the only challenge that can open is the one it issued itself.
func FuzzOpenChallenge(f *testing.F) {
	h := newHarness(f)
	secret := make([]byte, 32)
	rand.Read(secret)
	src := secrets.NewMemory(map[string]string{"k": `{"credential_keys":[{"id":"f1","secret":"` + hex.EncodeToString(secret) + `"}]}`})
	h.deps.Keys = credential.NewKeys(src, "k", h.deps.Now)
	h = h.another(f, func(*Config) {})
	issued, _, err := h.svc.issueChallenge(context.Background(), "shop", "192.0.2.1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(issued)
	f.Add(issued[:len(issued)-1] + "A")
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, v string) {
		if _, fail := h.svc.openChallenge(context.Background(), v, "shop", "192.0.2.1"); fail == nil && v != issued {
			t.Fatalf("%q opened as a challenge", v)
		}
	})
}
