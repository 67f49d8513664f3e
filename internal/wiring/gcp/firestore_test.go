package gcp

import (
	"context"
	"testing"

	"cloud.google.com/go/firestore"

	"eventrelay.dev/eventrelay/internal/wiring"
)

// TestFirestoreClientShared: one client per project and database, closed
// when its last user closes it (a closer called twice counts once).
func TestFirestoreClientShared(t *testing.T) {
	// The client dials lazily: no emulator has to answer here.
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
	client := func(database string) (*firestore.Client, wiring.Closer) {
		t.Helper()
		c, closeIt, err := firestoreClient(context.Background(), "p", database)
		if err != nil {
			t.Fatal(err)
		}
		return c, closeIt
	}
	ledgerClient, closeLedger := client("(default)")
	catalogClient, closeCatalog := client("(default)")
	other, closeOther := client("other")
	defer func() {
		if err := closeOther(); err != nil {
			t.Error(err)
		}
	}()
	if ledgerClient != catalogClient {
		t.Error("the ledger and the catalog in one database got two clients")
	}
	if other == ledgerClient {
		t.Error("two databases share a client")
	}
	if err := closeLedger(); err != nil {
		t.Fatal(err)
	}
	if err := closeLedger(); err != nil {
		t.Fatal(err)
	}
	if _, open := firestoreClients.open[firestoreDB{"p", "(default)", "127.0.0.1:1"}]; !open {
		t.Fatal("closed while the catalog still uses it")
	}
	if err := closeCatalog(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, open := firestoreClients.open[firestoreDB{"p", "(default)", "127.0.0.1:1"}]; open {
		t.Error("still open after its last user closed it")
	}
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:2")
	elsewhere, closeElsewhere := client("other")
	defer func() {
		if err := closeElsewhere(); err != nil {
			t.Error(err)
		}
	}()
	if elsewhere == other {
		t.Error("a client made for another emulator was handed out")
	}
	again, closeAgain := client("(default)")
	defer func() {
		if err := closeAgain(); err != nil {
			t.Error(err)
		}
	}()
	if again == ledgerClient {
		t.Error("a closed client was handed out again")
	}
}
