package tfcheck

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The order Terraform applies a module in: a resource or data source comes
// after everything it refers to (directly, through locals, or in
// depends_on). Nodes are "TYPE.NAME" for resources and
// "data.TYPE.NAME" for data sources, instances not told apart, as
// Terraform's own graph does for depends_on.

// edges returns the nodes a resource or data source block refers to.
func (m *Module) edges(b *hclsyntax.Block) map[string]bool {
	out := map[string]bool{}
	add := m.edgeCollector(out)
	walkAttributes(b.Body, func(a *hclsyntax.Attribute) { add(a.Expr) })
	return out
}

// exprEdges returns the nodes an expression refers to, through locals.
func (m *Module) exprEdges(e hclsyntax.Expression) map[string]bool {
	out := map[string]bool{}
	if e != nil {
		m.edgeCollector(out)(e)
	}
	return out
}

// edgeCollector returns a function adding to out the nodes an expression
// refers to, following locals (each once).
func (m *Module) edgeCollector(out map[string]bool) func(hclsyntax.Expression) {
	seen := map[string]bool{}
	var add func(e hclsyntax.Expression)
	add = func(e hclsyntax.Expression) {
		for _, t := range e.Variables() {
			root := t.RootName()
			name := ""
			if len(t) > 1 {
				if a, ok := t[1].(hcl.TraverseAttr); ok {
					name = a.Name
				}
			}
			switch root {
			case "local":
				if l := m.Locals[name]; l != nil && !seen[name] {
					seen[name] = true
					add(l.Expr)
				}
			case "data":
				if len(t) > 2 {
					if a, ok := t[2].(hcl.TraverseAttr); ok && m.Data[name+"."+a.Name] != nil {
						out["data."+name+"."+a.Name] = true
					}
				}
			case "var", "each", "count", "path", "terraform", "self", "module":
			default:
				if m.Resources[root+"."+name] != nil {
					out[root+"."+name] = true
				}
			}
		}
	}
	return add
}

// node returns the block of a node name.
func (m *Module) node(key string) *hclsyntax.Block {
	if len(key) > 5 && key[:5] == "data." {
		return m.Data[key[5:]]
	}
	return m.Resources[key]
}

// upstream returns every node key (a resource "TYPE.NAME" or a data source
// "data.TYPE.NAME") comes after, transitively.
func (m *Module) upstream(key string) map[string]bool {
	out := map[string]bool{}
	todo := []string{key}
	for len(todo) > 0 {
		k := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		b := m.node(k)
		if b == nil {
			continue
		}
		for dep := range m.edges(b) {
			if !out[dep] {
				out[dep] = true
				todo = append(todo, dep)
			}
		}
	}
	return out
}

// waitsAfter reports whether key comes after a time_sleep that itself
// comes after a resource of type typ, and names that time_sleep.
func (m *Module) waitsAfter(key, typ string) (string, bool) {
	for dep := range m.upstream(key) {
		if m.Resources[dep] == nil || m.Resources[dep].Labels[0] != "time_sleep" {
			continue
		}
		for before := range m.upstream(dep) {
			if b := m.Resources[before]; b != nil && b.Labels[0] == typ {
				return dep, true
			}
		}
	}
	return "", false
}
