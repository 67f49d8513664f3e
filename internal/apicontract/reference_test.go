package apicontract

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
)

var update = flag.Bool("update", false, "write "+ReferenceFile+" from the contract")

// TestReference: docs/http-api.md is what the contract renders to; with
// -update it is written.
func TestReference(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := Reference(doc)
	path := filepath.Join(modroot.Find(), ReferenceFile)
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: go test ./internal/apicontract -run TestReference -update", ReferenceFile)
	}
}
