package cost

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
)

var updatePage = flag.Bool("update-page", false, "write "+Path)

// TestPageIsCurrent: docs/cost.md is what the quantities and prices
// generate today; regenerate it with the command after changing either.
func TestPageIsCurrent(t *testing.T) {
	want, err := Page()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(modroot.Find(), Path)
	if *updatePage {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run %s", err, Command)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (or edited by hand): run %s", Path, Command)
	}
}
