package readme

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"eventrelay.dev/eventrelay/internal/modroot"
)

// pending are files the docs link to that another change brings
// (docs/configuration.md is generated from the settings registry): a link
// to one is not refused while it does not exist, and checked once it does.
var pending = map[string]bool{"docs/configuration.md": true}

// Every relative link in README.md and docs/*.md names a file of the
// checkout, and a #fragment names a heading of that file.
func TestLinksResolve(t *testing.T) {
	root := modroot.Find()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range files {
		rel, _ := filepath.Rel(root, file)
		text := Doc(t, rel)
		for _, m := range link.FindAllStringSubmatch(stripCode(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			name, fragment, _ := strings.Cut(target, "#")
			dest := rel
			if name != "" {
				dest = path.Join(path.Dir(filepath.ToSlash(rel)), name)
			}
			if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
				if pending[dest] {
					t.Logf("%s: link %s: %s is not there yet (pending)", rel, target, dest)
					continue
				}
				t.Errorf("%s: link %s: %s does not exist", rel, target, dest)
				continue
			}
			if fragment != "" && !headings(Doc(t, dest))[fragment] {
				t.Errorf("%s: link %s: %s has no heading #%s", rel, target, dest, fragment)
			}
		}
	}
}

var fence = regexp.MustCompile("(?s)```.*?```")

// stripCode drops fenced blocks, whose brackets are not links.
func stripCode(text string) string { return fence.ReplaceAllString(text, "") }

// headings are the anchors GitHub gives a Markdown file's headings: lower
// case, punctuation dropped, spaces as hyphens.
func headings(text string) map[string]bool {
	out := map[string]bool{}
	for line := range strings.SplitSeq(stripCode(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var slug strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				slug.WriteRune(r)
			}
		}
		out[slug.String()] = true
	}
	return out
}
