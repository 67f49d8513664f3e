package firestoreledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/internal/firestoreemu"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

// The attestation state, with the real client against every Firestore
// emulator this machine has (Google's own among them when installed).
func TestAttestFirestore(t *testing.T) {
	firestoreemu.Require(t)
	for _, name := range firestoreemu.Available() {
		t.Run(name, func(t *testing.T) {
			t.Setenv("FIRESTORE_EMULATOR_HOST", firestoreemu.Start(t, name))
			client, err := firestore.NewClient(context.Background(), "eventrelay-test")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			now := time.Now()
			n := 0
			noIsolation := ""
			if name == firestoreemu.NPM {
				noIsolation = "the npm Firestore emulator does not isolate transactions (Google's emulator does, and is checked when installed)"
			}
			ledgertest.RunAttest(t, now, func(t *testing.T) ledger.AttestStore {
				n++
				s := New(client, fmt.Sprintf("eventrelay-attest-%d", n))
				s.now = func() time.Time { return now }
				return s
			}, noIsolation)
		})
	}
}
