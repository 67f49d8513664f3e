package firestoreledger

import (
	"context"
	"eventrelay.dev/eventrelay/internal/testclose"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/internal/firestoreemu"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/ledger/ledgertest"
)

// The real Firestore client against every emulator this machine has:
// entries, verdicts and claims, erasure, and the attestation state.
func TestFirestore(t *testing.T) {
	firestoreemu.Require(t)
	for _, name := range firestoreemu.Available() {
		t.Run(name, func(t *testing.T) {
			t.Setenv("FIRESTORE_EMULATOR_HOST", firestoreemu.Start(t, name))
			client, err := firestore.NewClient(context.Background(), "eventrelay-test")
			if err != nil {
				t.Fatal(err)
			}
			testclose.Cleanup(t, client)
			now := time.Now()
			n := 0
			fresh := func() *Store {
				n++
				s := New(client, fmt.Sprintf("eventrelay-ledger-%d", n))
				s.now = func() time.Time { return now }
				return s
			}
			ledgertest.Run(t, now, func(t *testing.T) ledger.Store { return fresh() })
			ledgertest.RunVerdicts(t, now, func(t *testing.T) ledger.VerifyStore { return fresh() })
			ledgertest.RunErase(t, now, func(t *testing.T) ledgertest.ErasingStore { return fresh() })
			ledgertest.RunCursors(t, now, func(t *testing.T) ledger.Cursors { return fresh() })
			// The attestation state, on the same emulator (Google's takes
			// about 10 s to start).
			noIsolation := ""
			if name == firestoreemu.NPM {
				noIsolation = "the npm Firestore emulator does not isolate transactions (Google's emulator does, and is checked when installed)"
			}
			ledgertest.RunAttest(t, now, func(t *testing.T) ledger.AttestStore { return fresh() }, noIsolation)
		})
	}
}
