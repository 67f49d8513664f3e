package gcp

import (
	"context"
	"testing"
)

// TestFirestoreClientShared: one client per project and database, closed
// when its last user closes it (a closer called twice counts once).
func TestFirestoreClientShared(t *testing.T) {
	// The client dials lazily: no emulator has to answer here.
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
	ctx := context.Background()
	ledgerClient, closeLedger, err := firestoreClient(ctx, "p", "(default)")
	if err != nil {
		t.Fatal(err)
	}
	catalogClient, closeCatalog, err := firestoreClient(ctx, "p", "(default)")
	if err != nil {
		t.Fatal(err)
	}
	other, closeOther, err := firestoreClient(ctx, "p", "other")
	if err != nil {
		t.Fatal(err)
	}
	defer closeOther()
	if ledgerClient != catalogClient {
		t.Error("the ledger and the catalog in one database got two clients")
	}
	if other == ledgerClient {
		t.Error("two databases share a client")
	}
	closeLedger()
	closeLedger()
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
	elsewhere, closeElsewhere, err := firestoreClient(ctx, "p", "other")
	if err != nil {
		t.Fatal(err)
	}
	defer closeElsewhere()
	if elsewhere == other {
		t.Error("a client made for another emulator was handed out")
	}
	again, closeAgain, err := firestoreClient(ctx, "p", "(default)")
	if err != nil {
		t.Fatal(err)
	}
	defer closeAgain()
	if again == ledgerClient {
		t.Error("a closed client was handed out again")
	}
}
