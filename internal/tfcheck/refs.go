package tfcheck

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ref is a reference to a resource: TYPE.NAME[KEY].
type ref struct {
	Type, Name, Key string
}

func (r ref) String() string {
	if r.Key != "" {
		return fmt.Sprintf("%s.%s[%s]", r.Type, r.Name, r.Key)
	}
	return r.Type + "." + r.Name
}

// refsOf returns the resource references (not var, local, each, ...) in an
// expression, with a constant string index as Key.
func refsOf(e hclsyntax.Expression) []ref {
	var out []ref
	for _, t := range e.Variables() {
		switch t.RootName() {
		case "var", "local", "each", "count", "path", "terraform", "self", "module", "data":
			continue
		}
		if len(t) < 2 {
			continue
		}
		a, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		r := ref{Type: t.RootName(), Name: a.Name}
		if len(t) > 2 {
			if ix, ok := t[2].(hcl.TraverseIndex); ok && ix.Key.Type() == cty.String && ix.Key.IsKnown() {
				r.Key = ix.Key.AsString()
			}
		}
		out = append(out, r)
	}
	return out
}

// refTo returns the first reference of an expression to a resource type.
func refTo(e hclsyntax.Expression, typ string) (ref, bool) {
	if e == nil {
		return ref{}, false
	}
	for _, r := range refsOf(e) {
		if r.Type == typ {
			return r, true
		}
	}
	return ref{}, false
}

// walkAttributes calls fn for every attribute of a body, nested blocks
// included.
func walkAttributes(body *hclsyntax.Body, fn func(*hclsyntax.Attribute)) {
	names := make([]string, 0, len(body.Attributes))
	for n := range body.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fn(body.Attributes[n])
	}
	for _, b := range body.Blocks {
		walkAttributes(b.Body, fn)
	}
}

var moduleMeta = map[string]bool{"source": true, "version": true, "providers": true, "count": true, "for_each": true, "depends_on": true}

// CheckReferences reports every var., local., module., data. or resource
// reference that names nothing declared in the module (or, for module
// outputs, in the called module), each./count. outside a block that has
// for_each/count, and variable validations that read other variables
// (Terraform before 1.9 refuses them).
func CheckReferences(m *Module) []string {
	var out []string
	check := func(kind, name string, top *hclsyntax.Block, a *hclsyntax.Attribute) {
		if kind == "variable" && a.Name == "type" {
			return // a type constraint (string, optional(number, 0)), not references
		}
		if top != nil && top.Body.Attributes["provider"] == a {
			return // the provider meta-argument (google-beta), not a reference
		}
		for _, t := range a.Expr.Variables() {
			root := t.RootName()
			second := ""
			if len(t) > 1 {
				if ta, ok := t[1].(hcl.TraverseAttr); ok {
					second = ta.Name
				}
			}
			where := fmt.Sprintf("%s: %s %s", m.pos(a.SrcRange), kind, name)
			switch root {
			case "var":
				if _, ok := m.Variables[second]; !ok {
					out = append(out, fmt.Sprintf("%s: var.%s is not declared", where, second))
				} else if kind == "variable" && second != name {
					out = append(out, fmt.Sprintf("%s: validation reads var.%s; a variable's validation may read only itself", where, second))
				}
			case "local":
				if _, ok := m.Locals[second]; !ok {
					out = append(out, fmt.Sprintf("%s: local.%s is not declared", where, second))
				}
			case "module":
				call, ok := m.Calls[second]
				if !ok {
					out = append(out, fmt.Sprintf("%s: module.%s is not declared", where, second))
					continue
				}
				if len(t) > 2 {
					if ta, ok := t[2].(hcl.TraverseAttr); ok {
						if child := m.child(call); child != nil {
							if _, ok := child.Outputs[ta.Name]; !ok {
								out = append(out, fmt.Sprintf("%s: module.%s has no output %s", where, second, ta.Name))
							}
						}
					}
				}
			case "data":
				third := ""
				if len(t) > 2 {
					if ta, ok := t[2].(hcl.TraverseAttr); ok {
						third = ta.Name
					}
				}
				if _, ok := m.Data[second+"."+third]; !ok {
					out = append(out, fmt.Sprintf("%s: data.%s.%s is not declared", where, second, third))
				}
			case "each":
				if top == nil || attr(top, "for_each") == nil {
					out = append(out, fmt.Sprintf("%s: each.%s outside a for_each block", where, second))
				}
			case "count":
				if top == nil || attr(top, "count") == nil {
					out = append(out, fmt.Sprintf("%s: count.%s outside a count block", where, second))
				}
			case "path", "terraform", "self":
			default:
				if dynamicIterator(top, root) {
					continue // a dynamic block's iterator (labels.key, labels.value)
				}
				if _, ok := m.Resources[root+"."+second]; !ok {
					out = append(out, fmt.Sprintf("%s: %s.%s is not declared", where, root, second))
				}
			}
		}
	}
	visit := func(kind string, blocks map[string]*hclsyntax.Block) {
		for _, name := range sortedKeys(blocks) {
			b := blocks[name]
			walkAttributes(b.Body, func(a *hclsyntax.Attribute) { check(kind, name, b, a) })
		}
	}
	visit("variable", m.Variables)
	visit("resource", m.Resources)
	visit("data", m.Data)
	visit("module", m.Calls)
	visit("output", m.Outputs)
	for _, name := range sortedKeys(m.Locals) {
		check("local", name, nil, m.Locals[name])
	}
	return out
}

// dynamicIterator reports whether name is the iterator of a dynamic block
// inside b: its label, or its iterator attribute.
func dynamicIterator(b *hclsyntax.Block, name string) bool {
	if b == nil {
		return false
	}
	for _, c := range b.Body.Blocks {
		if c.Type == "dynamic" && len(c.Labels) == 1 {
			it := c.Labels[0]
			if a := attr(c, "iterator"); a != nil {
				it = hcl.ExprAsKeyword(a.Expr)
			}
			if it == name {
				return true
			}
		}
		if dynamicIterator(c, name) {
			return true
		}
	}
	return false
}

// child loads the module a call names, when its source is a local path.
func (m *Module) child(call *hclsyntax.Block) *Module {
	a := attr(call, "source")
	if a == nil {
		return nil
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.Type() != cty.String {
		return nil
	}
	src := v.AsString()
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return nil
	}
	child, err := Load(filepath.Join(m.Dir, src))
	if err != nil {
		return nil
	}
	return child
}

// CheckModuleCalls reports module calls whose local source does not load,
// that leave out a required variable of the called module, or pass one it
// does not declare.
func CheckModuleCalls(m *Module) []string {
	var out []string
	for _, name := range sortedKeys(m.Calls) {
		call := m.Calls[name]
		where := fmt.Sprintf("%s: module %s", m.pos(call.DefRange()), name)
		a := attr(call, "source")
		if a == nil {
			out = append(out, where+": no source")
			continue
		}
		child := m.child(call)
		if child == nil {
			out = append(out, where+": source is not a local module that loads")
			continue
		}
		vars := child.Inspect.Variables
		for _, v := range sortedKeys(vars) {
			if vars[v].Required && call.Body.Attributes[v] == nil {
				out = append(out, fmt.Sprintf("%s: required variable %s is not passed", where, v))
			}
		}
		for _, arg := range sortedKeys(call.Body.Attributes) {
			if !moduleMeta[arg] && vars[arg] == nil {
				out = append(out, fmt.Sprintf("%s: passes %s, which the module does not declare", where, arg))
			}
		}
		out = append(out, m.checkPassThrough(where, call, child)...)
	}
	return out
}

// checkPassThrough: a call passes every variable of the module on, each
// from the caller's variable of the same name, so that whatever is set in
// the caller's terraform.tfvars takes effect (a value for a variable the
// caller does not declare is dropped with a warning). Where the argument
// is the variable itself, the caller's type and default are the module's:
// leaving it unset must mean what the module means.
func (m *Module) checkPassThrough(where string, call *hclsyntax.Block, child *Module) []string {
	var out []string
	for _, name := range sortedKeys(child.Inspect.Variables) {
		a := call.Body.Attributes[name]
		if a == nil {
			if !child.Inspect.Variables[name].Required {
				out = append(out, fmt.Sprintf("%s: does not pass variable %s on: a value for it in terraform.tfvars would not take effect", where, name))
			}
			continue
		}
		reads := false
		for _, t := range a.Expr.Variables() {
			if t.RootName() == "var" && len(t) > 1 {
				if ta, ok := t[1].(hcl.TraverseAttr); ok && ta.Name == name {
					reads = true
				}
			}
		}
		if !reads || m.Inspect.Variables[name] == nil {
			out = append(out, fmt.Sprintf("%s: %s is not passed from a variable %s of its own: a value for it in terraform.tfvars would not take effect", where, name, name))
			continue
		}
		if !isVarRef(a.Expr, name) {
			continue // derived (a path made absolute): its default is the caller's own
		}
		mine, theirs := m.Inspect.Variables[name], child.Inspect.Variables[name]
		if squash(mine.Type) != squash(theirs.Type) {
			out = append(out, fmt.Sprintf("%s: variable %s is typed %s here and %s in the module", where, name, squash(mine.Type), squash(theirs.Type)))
		}
		if mine.Required != theirs.Required || !reflect.DeepEqual(mine.Default, theirs.Default) {
			out = append(out, fmt.Sprintf("%s: variable %s defaults to %v here and %v in the module: left unset it would not mean what the module means", where, name, mine.Default, theirs.Default))
		}
	}
	return out
}

// isVarRef: e is exactly var.name.
func isVarRef(e hclsyntax.Expression, name string) bool {
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 || st.Traversal.RootName() != "var" {
		return false
	}
	ta, ok := st.Traversal[1].(hcl.TraverseAttr)
	return ok && ta.Name == name
}

// squash removes the white space of a type expression.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// CheckVariables reports variables without a type or a description.
func CheckVariables(m *Module) []string {
	var out []string
	for _, name := range sortedKeys(m.Inspect.Variables) {
		v := m.Inspect.Variables[name]
		if strings.TrimSpace(v.Type) == "" {
			out = append(out, fmt.Sprintf("%s: variable %s has no type", m.pos(m.Variables[name].DefRange()), name))
		}
		if strings.TrimSpace(v.Description) == "" {
			out = append(out, fmt.Sprintf("%s: variable %s has no description", m.pos(m.Variables[name].DefRange()), name))
		}
	}
	for _, name := range sortedKeys(m.Inspect.Outputs) {
		if strings.TrimSpace(m.Inspect.Outputs[name].Description) == "" {
			out = append(out, fmt.Sprintf("%s: output %s has no description", m.pos(m.Outputs[name].DefRange()), name))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
