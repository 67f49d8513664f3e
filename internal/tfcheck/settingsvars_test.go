package tfcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/shared/settings"
)

// settingsVariablesFile is the module file written from the registry: the
// variables of settings that have no hand-written home (variables.tf,
// monitoring_variables.tf, …) in the module. Both modules' copies come from
// one declaration, so a description, default or bound is changed once, in
// shared/settings.
const settingsVariablesFile = "settings_variables.tf"

// TestSettingsVariablesAreGenerated: each module's settings_variables.tf is
// what the registry makes. -update writes it (then regenerate the examples:
// -run TestExamplesPassEveryVariable -update).
func TestSettingsVariablesAreGenerated(t *testing.T) {
	for _, cloud := range []string{"gcp", "aws"} {
		dir := filepath.Join(tfRoot, "modules", cloud)
		m, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := settingsVariables(m, cloud)
		path := filepath.Join(dir, settingsVariablesFile)
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("terraform/modules/%s/%s is not what shared/settings makes: run go test ./internal/tfcheck -run 'TestSettingsVariablesAreGenerated|TestExamplesPassEveryVariable' -update", cloud, settingsVariablesFile)
		}
	}
}

// settingsVariables renders the variables of the settings the cloud sets by
// a variable declared nowhere else in m, sorted by name.
func settingsVariables(m *Module, cloud string) string {
	elsewhere := map[string]bool{}
	for name, v := range m.Inspect.Variables {
		if filepath.Base(v.Pos.Filename) != settingsVariablesFile {
			elsewhere[name] = true
		}
	}
	var blocks []string
	for _, s := range settings.All() {
		tf := s.Info().GCP
		if cloud == "aws" {
			tf = s.Info().AWS
		}
		if tf.How != settings.Variable || elsewhere[tf.Variable] {
			continue
		}
		blocks = append(blocks, variableBlock(tf.Variable, s))
	}
	slices.Sort(blocks)
	return `# Generated from shared/settings by internal/tfcheck
# (TestSettingsVariablesAreGenerated -update): do not edit. Module variables
# for the functions' settings that have no other home in this module, each
# with the registry's description, default and bounds (docs/configuration.md
# lists every setting).
` + strings.Join(blocks, "")
}

// variableBlock is one setting's variable, with a validation of its bounds
// where Terraform can check them before the function refuses to start.
func variableBlock(name string, s settings.Setting) string {
	var tfType, def, cond, msg string
	switch v := s.(type) {
	case *settings.Int:
		tfType, def = "number", strconv.Itoa(v.Default)
		cond = fmt.Sprintf("var.%[1]s >= %[2]d && var.%[1]s <= %[3]d && floor(var.%[1]s) == var.%[1]s", name, v.Min, v.Max)
		msg = fmt.Sprintf("%s must be a whole number from %d to %d.", name, v.Min, v.Max)
	case *settings.Duration:
		tfType, def = "string", hclQuote(s.DefaultText())
		cond = fmt.Sprintf(`can(regex("^[0-9]+(ms|s|m|h)$", var.%s))`, name)
		msg = fmt.Sprintf("%s must be a duration such as 30s, 10m or 720h (%s).", name, s.BoundsText())
	case *settings.Bool:
		tfType, def = "bool", s.DefaultText()
	case *settings.List:
		tfType, def = "list(string)", "[]"
		if len(v.Default) > 0 {
			quoted := make([]string, len(v.Default))
			for i, d := range v.Default {
				quoted[i] = hclQuote(d)
			}
			def = "[" + strings.Join(quoted, ", ") + "]"
		}
	case *settings.OneOf:
		tfType, def = "string", hclQuote(v.Default)
		quoted := make([]string, len(v.Allowed))
		for i, a := range v.Allowed {
			quoted[i] = hclQuote(a)
		}
		cond = fmt.Sprintf("contains([%s], var.%s)", strings.Join(quoted, ", "), name)
		msg = fmt.Sprintf("%s must be %s.", name, strings.Join(v.Allowed, ", "))
	default:
		tfType, def = "string", hclQuote(s.DefaultText())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n# tflint-ignore: terraform_standard_module_structure\nvariable %q {\n", name)
	fmt.Fprintf(&b, "  type        = %s\n", tfType)
	fmt.Fprintf(&b, "  description = %s\n", hclQuote(s.Info().Name+": "+strings.TrimSuffix(s.Info().Description, ".")+"."))
	fmt.Fprintf(&b, "  default     = %s\n", def)
	if cond != "" {
		fmt.Fprintf(&b, "\n  validation {\n    condition     = %s\n    error_message = %s\n  }\n", cond, hclQuote(msg))
	}
	b.WriteString("}\n")
	return b.String()
}

// hclQuote is s as an HCL string: Go's escapes (which HCL shares), printable
// Unicode kept, and template introducers doubled so they stay literal.
func hclQuote(s string) string {
	q := strconv.QuoteToGraphic(s)
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(q)
}
