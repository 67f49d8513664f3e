package attest

import (
	"context"
	"testing"
)

// FuzzOpenChallenge: no string the exchange did not issue opens as a
// challenge (a mutated issued one included), and none panics.
func FuzzOpenChallenge(f *testing.F) {
	h := newHarness(f)
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
