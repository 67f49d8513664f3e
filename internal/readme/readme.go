// Package readme reads the project's documentation (README.md and the
// files under docs/) for tests that check the code against what the docs
// say (a status table, a reason list, a runbook's commands).
package readme

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
)

// Doc is the text of the documentation file at path, relative to the
// module root ("README.md", "docs/verify.md").
func Doc(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(modroot.Find(), path))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// All is the text of README.md and of every docs/*.md file, one after the
// other, for checks that hold wherever a command is shown.
func All(t testing.TB) string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(modroot.Find(), "docs", "*.md"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("docs/*.md: %v (%d files)", err, len(paths))
	}
	all := Doc(t, "README.md")
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all += "\n" + string(raw)
	}
	return all
}

// Section is the text of the file at path between the first from and the
// next until after it (until "" is the end of the file); the test fails
// when either is missing, so a moved table is noticed rather than read as
// empty.
func Section(t testing.TB, path, from, until string) string {
	t.Helper()
	_, rest, ok := strings.Cut(Doc(t, path), from)
	if !ok {
		t.Fatalf("%s: %q is missing", path, from)
	}
	if until == "" {
		return rest
	}
	section, _, ok := strings.Cut(rest, until)
	if !ok {
		t.Fatalf("%s: %q does not follow %q", path, until, from)
	}
	return section
}

// Rows are the table rows of text, each split at "|" into its trimmed
// cells; each table's header and separator rows are left out.
func Rows(text string) [][]string {
	var rows [][]string
	body := false // past the current table's separator row
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case !strings.HasPrefix(line, "|"):
			body = false
			continue
		case strings.HasPrefix(line, "|---"):
			body = true
			continue
		case !body:
			continue // the header
		}
		rows = append(rows, cells(line))
	}
	return rows
}

// cells splits a table row at its unescaped "|"s; a "\\|" is a "|" inside
// a cell, as Markdown tables write one.
func cells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var out []string
	var cell strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cell.WriteByte('|')
			i++
		case line[i] == '|':
			out = append(out, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	return append(out, strings.TrimSpace(cell.String()))
}

var code = regexp.MustCompile("`([^`]+)`")

// Codes are the `quoted` names in a cell, in order.
func Codes(cell string) []string {
	var out []string
	for _, m := range code.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// Statuses reads a table of HTTP statuses in text: each `code` of a row's
// codes column maps to the status its status column starts with ("401,
// challenge" is 401). A row without a status fails the test.
func Statuses(t testing.TB, text string, statusCol, codesCol int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, row := range Rows(text) {
		if len(row) <= max(statusCol, codesCol) {
			t.Fatalf("row %q has too few cells", row)
		}
		num, _, _ := strings.Cut(row[statusCol], ",")
		status, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("row %q has no status", row)
		}
		for _, c := range Codes(row[codesCol]) {
			out[c] = status
		}
	}
	return out
}
