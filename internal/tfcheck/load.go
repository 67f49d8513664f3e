// Package tfcheck checks the Terraform modules in terraform/ without
// providers (which cannot be had on this machine): it loads every module
// with hashicorp/hcl and terraform-config-inspect, evaluates what can be
// known from the variables' defaults, and reports what breaks the project's
// rules (references that resolve, typed and described variables, no broad
// roles or wildcard policies, empty secrets, and the delivery wiring).
package tfcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

// Module is one loaded Terraform module directory.
type Module struct {
	Dir       string
	Inspect   *tfconfig.Module
	Variables map[string]*hclsyntax.Block
	Locals    map[string]*hclsyntax.Attribute
	Resources map[string]*hclsyntax.Block // "type.name"
	Data      map[string]*hclsyntax.Block // "type.name"
	Calls     map[string]*hclsyntax.Block // module "name"
	Outputs   map[string]*hclsyntax.Block
	// Problems found while loading: parse errors, inspect diagnostics,
	// duplicate declarations.
	Problems []string
	files    map[string][]byte
	bodies   []*hclsyntax.Body
	eval     *evaluator
}

// Load parses every .tf file of dir with hclsyntax and loads the module with
// terraform-config-inspect; every diagnostic, warning or error, is a
// problem.
func Load(dir string) (*Module, error) {
	m := &Module{Dir: dir, Variables: map[string]*hclsyntax.Block{}, Locals: map[string]*hclsyntax.Attribute{},
		Resources: map[string]*hclsyntax.Block{}, Data: map[string]*hclsyntax.Block{},
		Calls: map[string]*hclsyntax.Block{}, Outputs: map[string]*hclsyntax.Block{}, files: map[string][]byte{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no .tf files", dir)
	}
	sort.Strings(names)
	parser := hclparse.NewParser()
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m.files[name] = src
		f, diags := parser.ParseHCL(src, name)
		for _, d := range diags {
			m.Problems = append(m.Problems, fmt.Sprintf("parse: %s", d.Error()))
		}
		if f == nil {
			continue
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			m.Problems = append(m.Problems, fmt.Sprintf("%s: not native HCL syntax", name))
			continue
		}
		m.bodies = append(m.bodies, body)
		m.index(body)
	}
	mod, diags := tfconfig.LoadModule(dir)
	for _, d := range diags {
		pos := ""
		if d.Pos != nil {
			pos = fmt.Sprintf("%s:%d: ", d.Pos.Filename, d.Pos.Line)
		}
		m.Problems = append(m.Problems, fmt.Sprintf("inspect: %s%s: %s", pos, d.Summary, d.Detail))
	}
	m.Inspect = mod
	m.eval = newEvaluator(m)
	return m, nil
}

func (m *Module) index(body *hclsyntax.Body) {
	add := func(kind string, into map[string]*hclsyntax.Block, key string, b *hclsyntax.Block) {
		if _, dup := into[key]; dup {
			m.Problems = append(m.Problems, fmt.Sprintf("%s: %s %s declared twice", m.pos(b.Range()), kind, key))
		}
		into[key] = b
	}
	for _, b := range body.Blocks {
		switch {
		case b.Type == "variable" && len(b.Labels) == 1:
			add("variable", m.Variables, b.Labels[0], b)
		case b.Type == "output" && len(b.Labels) == 1:
			add("output", m.Outputs, b.Labels[0], b)
		case b.Type == "module" && len(b.Labels) == 1:
			add("module", m.Calls, b.Labels[0], b)
		case b.Type == "resource" && len(b.Labels) == 2:
			add("resource", m.Resources, b.Labels[0]+"."+b.Labels[1], b)
		case b.Type == "data" && len(b.Labels) == 2:
			add("data", m.Data, b.Labels[0]+"."+b.Labels[1], b)
		case b.Type == "locals":
			for name, a := range b.Body.Attributes {
				if _, dup := m.Locals[name]; dup {
					m.Problems = append(m.Problems, fmt.Sprintf("%s: local %s declared twice", m.pos(a.SrcRange), name))
				}
				m.Locals[name] = a
			}
		}
	}
}

func (m *Module) pos(r hcl.Range) string {
	rel, err := filepath.Rel(m.Dir, r.Filename)
	if err != nil {
		rel = r.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.Join(filepath.Base(m.Dir), rel), r.Start.Line)
}

// source returns the text of an expression, with references to locals
// replaced by the locals' own text (one level of indirection per local), so
// rules can recognise a value spelled through a local.
func (m *Module) source(e hclsyntax.Expression) string {
	r := e.Range()
	src := m.files[r.Filename]
	if src == nil || r.End.Byte > len(src) {
		return ""
	}
	text := string(src[r.Start.Byte:r.End.Byte])
	var extra []string
	seen := map[string]bool{}
	for _, t := range e.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if a, ok := t[1].(hcl.TraverseAttr); ok && !seen[a.Name] {
			seen[a.Name] = true
			if l := m.Locals[a.Name]; l != nil {
				ls := m.files[l.Expr.Range().Filename]
				lr := l.Expr.Range()
				extra = append(extra, string(ls[lr.Start.Byte:lr.End.Byte]))
			}
		}
	}
	return strings.Join(append([]string{text}, extra...), "\n")
}

// blocks returns the nested blocks of b of a type.
func blocks(b *hclsyntax.Block, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, c := range b.Body.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// block returns the first nested block at a path such as "push_config",
// "oidc_token", or nil.
func block(b *hclsyntax.Block, path ...string) *hclsyntax.Block {
	for _, p := range path {
		bs := blocks(b, p)
		if len(bs) == 0 {
			return nil
		}
		b = bs[0]
	}
	return b
}

// attr returns an attribute of a block, or nil.
func attr(b *hclsyntax.Block, name string) *hclsyntax.Attribute {
	if b == nil {
		return nil
	}
	return b.Body.Attributes[name]
}

// LoadTree loads every directory under root that holds .tf files.
func LoadTree(root string) ([]*Module, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".tf") {
			dir := filepath.Dir(path)
			if len(dirs) == 0 || dirs[len(dirs)-1] != dir {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var mods []*Module
	for _, d := range dirs {
		m, err := Load(d)
		if err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	return mods, nil
}
