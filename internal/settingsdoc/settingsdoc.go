// Package settingsdoc writes docs/configuration.md from the settings
// registry (shared/settings): every setting once, grouped by the functions
// that read it, with its type, default, bounds, description, secret flag
// and how each cloud's Terraform module sets it.
package settingsdoc

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"eventrelay.dev/eventrelay/shared/settings"
)

// Path is where the generated page lives, from the module root.
const Path = "docs/configuration.md"

// Command regenerates the page.
const Command = "go run ./cmd/eventrelay docs config"

// group is one section of the page.
type group struct {
	title, intro string
	has          func(m *settings.Meta) bool
}

func deployedReaders(m *settings.Meta) []settings.Function {
	var out []settings.Function
	for _, f := range m.Functions {
		if f.Deployed() {
			out = append(out, f)
		}
	}
	return out
}

func only(f settings.Function) func(m *settings.Meta) bool {
	return func(m *settings.Meta) bool {
		d := deployedReaders(m)
		return len(d) == 1 && d[0] == f
	}
}

var groups = []group{
	{"Every function", "Read by ingest, the forwarder, verify and backfill alike.",
		func(m *settings.Meta) bool { return len(deployedReaders(m)) == 4 }},
	{"Several functions", "Read by two or three of the functions, which must agree on them.",
		func(m *settings.Meta) bool { n := len(deployedReaders(m)); return n == 2 || n == 3 }},
	{"ingest", "Ingest alone, including its routes: the attestation exchange and `/erase`.", only(settings.Ingest)},
	{"forwarder", "The forwarder alone.", only(settings.Forwarder)},
	{"verify", "Verify alone.", only(settings.Verify)},
	{"backfill", "Backfill alone.", only(settings.Backfill)},
	{"Operator CLI", "Defaults of the `eventrelay` command's flags, so a key need not be typed on the command line.",
		func(m *settings.Meta) bool { return len(deployedReaders(m)) == 0 && m.Reads(settings.CLI) }},
	{"Local stack", "`eventrelay dev`, `eventrelay serve` and the client libraries' emulator addresses.",
		func(m *settings.Meta) bool {
			return len(deployedReaders(m)) == 0 && !m.Reads(settings.CLI) && m.Reads(settings.Local)
		}},
	{"Tests", "The test harness's switches and tools.",
		func(m *settings.Meta) bool {
			return len(deployedReaders(m)) == 0 && !m.Reads(settings.CLI) && !m.Reads(settings.Local)
		}},
}

// intro explains the columns (~ stands for a backquote).
const intro = `Every function reads its settings from environment variables once, at
start; a missing or wrong value stops the start with one line naming the
variable (~config: NAME: ...~). Each setting is declared once, in
~shared/settings~, with everything on this page; the code reads it only
through that declaration, and the tests hold the Terraform modules to it.

Columns: the **default** applies when the variable is unset or blank;
**bounds** are what the start accepts; **secret** says whether the value
names a secret (its name or ARN; the value itself lives in Secret Manager or
Secrets Manager) or holds one (keep it out of files and shell history);
**GCP** and **AWS** say how ~terraform/modules/gcp~ and
~terraform/modules/aws~ set it: a module variable (whose default is the one
here), set by the module itself, derived from another variable, set by the
platform, or not used on that cloud. The modules' ~extra_environment~ can
still set any variable per function.

`

// Markdown is the page.
func Markdown() []byte {
	all := settings.All()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Configuration\n\n")
	fmt.Fprintf(&b, "<!-- Generated from shared/settings by `%s`. Do not edit: change the declaration and run it again. -->\n\n", Command)
	b.WriteString(strings.ReplaceAll(intro, "~", "`"))
	var total, deployed, vars [2]int
	for _, s := range all {
		m := s.Info()
		if len(deployedReaders(m)) > 0 {
			deployed[0]++
		}
		total[0]++
		for i, tf := range []settings.Terraform{m.GCP, m.AWS} {
			if tf.How == settings.Variable {
				vars[i]++
			}
		}
	}
	fmt.Fprintf(&b, "%d settings, %d of them read by a deployed function; %d set by a variable of the GCP module, %d of the AWS module.\n\n",
		total[0], deployed[0], vars[0], vars[1])
	for _, g := range groups {
		var rows []settings.Setting
		for _, s := range all {
			if g.has(s.Info()) {
				rows = append(rows, s)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", g.title, g.intro)
		b.WriteString("| variable | type | default | bounds | description | read by | secret | GCP | AWS |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range rows {
			m := s.Info()
			desc := m.Description
			if m.Required != "" {
				desc += " (required: " + m.Required + ")"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				m.Name, cell(s.Type()), code(s.DefaultText()), cell(s.BoundsText()), cell(desc), readers(m),
				m.Secret, cloud(m.GCP, m), cloud(m.AWS, m))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func readers(m *settings.Meta) string {
	names := make([]string, 0, len(m.Functions))
	for _, f := range settings.Functions {
		if slices.Contains(m.Functions, f) {
			names = append(names, string(f))
		}
	}
	return strings.Join(names, ", ")
}

func cloud(t settings.Terraform, m *settings.Meta) string {
	if t.How == settings.Unset {
		switch {
		case m.Reads(settings.CLI):
			return "CLI only"
		case m.Reads(settings.Local):
			return "local only"
		}
		return "test only"
	}
	return cell(t.Text())
}

// cell escapes what would end a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + cell(s) + "`"
}
