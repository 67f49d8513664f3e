package settings

import (
	"path/filepath"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
	"eventrelay.dev/eventrelay/internal/readme"
)

// TestDocTablesFollowTheRegistry: the hand-written settings tables in the
// docs (| variable | default | meaning |, kept beside the text that explains
// them) name only declared settings and give each the registry's default,
// so they cannot drift from docs/configuration.md. A row names several
// settings and their defaults in the same order ("`A`, `B`" | "`1`, `2`");
// a default cell without a `code` (required, empty) is not compared.
func TestDocTablesFollowTheRegistry(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(modroot.Find(), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range paths {
		doc := "docs/" + filepath.Base(p)
		if doc == "docs/configuration.md" {
			continue // generated from the registry
		}
		for _, table := range settingsTables(readme.Doc(t, doc)) {
			for _, row := range readme.Rows(table) {
				if len(row) < 2 {
					continue
				}
				names, defaults := readme.Codes(row[0]), readme.Codes(row[1])
				for i, name := range names {
					if name != strings.ToUpper(name) {
						break // a Terraform variable's table (deploy docs), held to the modules by internal/tfcheck
					}
					s, ok := Lookup(name)
					if !ok {
						t.Errorf("%s: %s is not a declared setting", doc, name)
						continue
					}
					if i >= len(defaults) || len(defaults) != len(names) {
						continue
					}
					checked++
					if want := s.DefaultText(); !s.Same(defaults[i], want) {
						t.Errorf("%s: %s defaults to %q here, to %q in shared/settings", doc, name, defaults[i], want)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d documented defaults compared: the tables' header moved?", checked)
	}
}

// settingsTables are the tables of text whose header is
// "| variable | default | meaning |".
func settingsTables(text string) []string {
	var out []string
	for _, part := range strings.Split(text, "| variable | default | meaning |")[1:] {
		table, _, _ := strings.Cut(part, "\n\n")
		out = append(out, "| variable | default | meaning |"+table)
	}
	return out
}
