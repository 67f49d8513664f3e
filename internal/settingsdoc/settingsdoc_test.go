package settingsdoc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/shared/settings"
)

// TestPageIsCurrent: docs/configuration.md is what the registry generates
// today; regenerate it with the command after changing a declaration.
func TestPageIsCurrent(t *testing.T) {
	got, err := os.ReadFile(filepath.Join(modroot.Find(), Path))
	if err != nil {
		t.Fatalf("%v: run %s", err, Command)
	}
	if want := Markdown(); !bytes.Equal(got, want) {
		t.Errorf("%s is stale (or edited by hand): run %s", Path, Command)
	}
}

// TestEverySettingOnce: every declared setting has exactly one row.
func TestEverySettingOnce(t *testing.T) {
	page := string(Markdown())
	for _, s := range settings.All() {
		row := "| `" + s.Info().Name + "` |"
		if n := strings.Count(page, row); n != 1 {
			t.Errorf("%s: %d rows, want 1", s.Info().Name, n)
		}
	}
}
