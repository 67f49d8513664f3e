package tfcheck

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"eventrelay.dev/eventrelay/shared/settings"
)

// envItem is one "NAME = value" the module writes into a function's
// environment, with the variables its value comes from (through locals).
type envItem struct {
	pos  string
	expr hclsyntax.Expression // the value
	vars map[string]bool      // the value's
	// under are the variables of the whole attribute the item is in: the
	// condition that adds it (var.erase_enabled ? {...} : {}) among them.
	under map[string]bool
}

// envItems finds every object item of the module keyed like an environment
// variable that the registry declares, and the variables its value uses.
func envItems(m *Module) map[string][]envItem {
	out := map[string][]envItem{}
	memo := map[string]map[string]bool{}
	for _, body := range m.bodies {
		walkAttributes(body, func(a *hclsyntax.Attribute) {
			var under map[string]bool
			// The walk's diagnostics are the callback's, and it returns none.
			_ = hclsyntax.VisitAll(a.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
				obj, ok := n.(*hclsyntax.ObjectConsExpr)
				if !ok {
					return nil
				}
				for _, item := range obj.Items {
					name := hcl.ExprAsKeyword(item.KeyExpr)
					if name == "" {
						if v, diags := item.KeyExpr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() {
							name = v.AsString()
						}
					}
					if _, declared := settings.Lookup(name); !declared {
						continue
					}
					if under == nil {
						under = varsOf(m, a.Expr, memo, map[string]bool{})
					}
					out[name] = append(out[name], envItem{pos: m.pos(item.ValueExpr.Range()), expr: item.ValueExpr,
						vars: varsOf(m, item.ValueExpr, memo, map[string]bool{}), under: under})
				}
				return nil
			})
		})
	}
	return out
}

// varsOf are the module variables an expression reads, directly or through
// the locals it reads.
func varsOf(m *Module, e hclsyntax.Expression, memo map[string]map[string]bool, busy map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, t := range e.Variables() {
		if len(t) < 2 {
			continue
		}
		a, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		switch t.RootName() {
		case "var":
			out[a.Name] = true
		case "local":
			if busy[a.Name] {
				continue
			}
			vs, done := memo[a.Name]
			if !done {
				if l := m.Locals[a.Name]; l != nil {
					busy[a.Name] = true
					vs = varsOf(m, l.Expr, memo, busy)
					delete(busy, a.Name)
				}
				memo[a.Name] = vs
			}
			for v := range vs {
				out[v] = true
			}
		}
	}
	return out
}

// envText is a variable's default as the environment would get it from
// the module (numbers as whole numbers, lists joined with commas, maps as
// key=value pairs); ok false for null or no default (the code's own
// default, or a required variable).
func envText(v cty.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() {
		return "", false
	}
	switch {
	case v.Type() == cty.String:
		return v.AsString(), true
	case v.Type() == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return fmt.Sprint(f), true
	case v.Type() == cty.Bool:
		return fmt.Sprint(v.True()), true
	case v.Type().IsMapType() && v.Type().ElementType() == cty.String:
		var pairs []string
		for k, e := range v.AsValueMap() {
			pairs = append(pairs, k+"="+e.AsString())
		}
		sort.Strings(pairs)
		return strings.Join(pairs, ","), true
	case v.CanIterateElements() && v.LengthInt() == 0:
		return "", true
	case v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType():
		items, ok := knownStrings(v)
		return strings.Join(items, ","), ok
	}
	return "", false
}

// defaultText is the module variable's default, as envText spells it.
func defaultText(m *Module, name string) (string, bool) {
	b := m.Variables[name]
	if attr(b, "default") == nil {
		return "", false
	}
	return envText(m.eval.variableValue(name, b))
}

// environments are the keys of each function's environment with every
// variable at its default (local.environment), or nil when it cannot be
// evaluated.
func environments(m *Module) map[string]map[string]bool {
	env := m.eval.local("environment")
	if !env.IsKnown() || env.IsNull() || !(env.Type().IsObjectType() || env.Type().IsMapType()) {
		return nil
	}
	out := map[string]map[string]bool{}
	for fn, vars := range env.AsValueMap() {
		if !vars.IsKnown() || vars.IsNull() || !(vars.Type().IsObjectType() || vars.Type().IsMapType()) {
			return nil
		}
		out[fn] = map[string]bool{}
		for k := range vars.AsValueMap() {
			out[fn][k] = true
		}
	}
	return out
}

// moduleProblems is how one cloud's module departs from the registry:
//   - a setting the registry says a module variable sets: the variable is
//     missing (a deployable setting that tfvars cannot set), its default is
//     not the registry's, or no environment entry of that name uses it, or
//     (every variable at its default) a function that reads the setting does
//     not get it while another does;
//   - a setting the module sets itself or derives: no environment entry of
//     that name (derived: none that uses the variable named);
//   - a setting the registry says the module does not set (not used on
//     that cloud, set by the platform, local or test only): the module
//     sets it.
func moduleProblems(m *Module, cloud string) []string {
	var out []string
	items := envItems(m)
	envs := environments(m)
	uses := func(name, variable string, derived bool) bool {
		for _, it := range items[name] {
			if it.vars[variable] || derived && it.under[variable] {
				return true
			}
		}
		return false
	}
	for _, s := range settings.All() {
		meta := s.Info()
		tf := meta.GCP
		if cloud == "aws" {
			tf = meta.AWS
		}
		switch tf.How {
		case settings.Variable, settings.Derived:
			if m.Variables[tf.Variable] == nil {
				out = append(out, fmt.Sprintf("%s: no variable %s in the %s module, so tfvars cannot set it", meta.Name, tf.Variable, cloud))
				continue
			}
			if !uses(meta.Name, tf.Variable, tf.How == settings.Derived) {
				out = append(out, fmt.Sprintf("%s: the %s module declares %s but no function's environment gets %s from it", meta.Name, cloud, tf.Variable, meta.Name))
			}
			if tf.How == settings.Derived {
				continue
			}
			if def, ok := defaultText(m, tf.Variable); ok && !s.Same(def, s.DefaultText()) && !(def == "" && s.DefaultText() == "") {
				out = append(out, fmt.Sprintf("%s: the %s module's %s defaults to %q, the registry to %q", meta.Name, cloud, tf.Variable, def, s.DefaultText()))
			}
			if envs == nil {
				continue
			}
			var have, lack []string
			for _, fn := range meta.Functions {
				if !fn.Deployed() {
					continue
				}
				if envs[string(fn)][meta.Name] {
					have = append(have, string(fn))
				} else {
					lack = append(lack, string(fn))
				}
			}
			if len(have) > 0 && len(lack) > 0 {
				out = append(out, fmt.Sprintf("%s: read by %s, but the %s module gives it only to %s", meta.Name,
					strings.Join(append(have, lack...), ", "), cloud, strings.Join(have, ", ")))
			}
		case settings.Gap:
			// Listed by the test, and in the doc; not an error.
		case settings.Wired:
			if len(items[meta.Name]) == 0 {
				out = append(out, fmt.Sprintf("%s: the registry says the %s module sets it (%s), but no environment entry does", meta.Name, cloud, tf.Note))
			}
		default:
			for _, it := range items[meta.Name] {
				out = append(out, fmt.Sprintf("%s: %s: the %s module sets it, but the registry says %q", it.pos, meta.Name, cloud, tf.Text()))
			}
		}
	}
	return out
}

// TestModulesFollowTheRegistry: each cloud's module sets the settings the
// registry says it sets, with the registry's defaults, and every
// deployable setting can be set from tfvars (a variable, or the module's
// own wiring).
func TestModulesFollowTheRegistry(t *testing.T) {
	for _, cloud := range []string{"gcp", "aws"} {
		m, err := Load(filepath.Join(tfRoot, "modules", cloud))
		if err != nil {
			t.Fatal(err)
		}
		if environments(m) == nil {
			t.Errorf("%s: local.environment cannot be evaluated with the defaults", cloud)
		}
		for _, p := range moduleProblems(m, cloud) {
			t.Errorf("%s", p)
		}
		for _, s := range settings.All() {
			tf := s.Info().GCP
			if cloud == "aws" {
				tf = s.Info().AWS
			}
			if tf.How == settings.Gap {
				t.Logf("%s: %s has no module variable yet: %s", cloud, s.Info().Name, tf.Note)
			}
		}
	}
}

// TestModuleChecksCatchFaults: the checks above fail on a module planted
// with each fault (testdata/settingsmodule): a default that differs, a
// variable missing, a variable no environment uses, a function left out,
// and a setting set where the registry says it is not.
func TestModuleChecksCatchFaults(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "settingsmodule"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(moduleProblems(m, "aws"), "\n")
	for _, want := range []string{
		`BACKFILL_RATE: the aws module's backfill_rate defaults to "60", the registry to "50"`,
		`LEDGER_TTL: no variable ledger_ttl in the aws module, so tfvars cannot set it`,
		`LOG_LEVEL: the aws module declares log_level but no function's environment gets LOG_LEVEL from it`,
		`MCM_TIMEOUT: read by forwarder, backfill, but the aws module gives it only to forwarder`,
		`PUBSUB_TOPIC: the aws module sets it, but the registry says "not used"`,
		`SQS_QUEUE_URL: the registry says the aws module sets it (the events queue), but no environment entry does`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the planted module's problems lack\n  %s\nin\n%s", want, got)
		}
	}
	if slices.Contains(strings.Split(got, "\n"), "") {
		t.Errorf("an empty problem line in\n%s", got)
	}
}
