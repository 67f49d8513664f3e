package main

import (
	"regexp"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// The Operator CLI table in docs/operations.md has one row per command the
// CLI has, and every flag a row shows is one the command takes (its -h);
// the development layout names every command too.
func TestDocsNameEveryCommand(t *testing.T) {
	table := readme.Section(t, "docs/operations.md", "\n## Operator CLI\n", "\n## ")
	rows := map[string]string{}
	for _, row := range readme.Rows(table) {
		codes := readme.Codes(row[0])
		if len(codes) == 0 {
			t.Fatalf("docs/operations.md: an Operator CLI row names no command: %q", row)
		}
		name, _, _ := strings.Cut(codes[0], " ")
		rows[name] = codes[0]
	}
	layout := readme.Section(t, "docs/development.md", "cmd/eventrelay        operator CLI:", "functions/")
	for name := range commands {
		if _, ok := rows[name]; !ok {
			t.Errorf("docs/operations.md: no Operator CLI row for %q", name)
		}
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(layout) {
			t.Errorf("docs/development.md: the layout's operator CLI does not name %q", name)
		}
	}
	flagName := regexp.MustCompile(`(?:^|[\s\[(])-([a-z][a-z-]*)`)
	for name, usage := range rows {
		if commands[name] == nil {
			t.Errorf("docs/operations.md: a row for %q, which is no command", name)
			continue
		}
		_, help := runMain(t, name, "-h")
		for _, m := range flagName.FindAllStringSubmatch(usage, -1) {
			if !strings.Contains(help, "  -"+m[1]+" ") && !strings.Contains(help, "  -"+m[1]+"\n") {
				t.Errorf("docs/operations.md: %s -%s is not a flag of %s", name, m[1], name)
			}
		}
	}
}
