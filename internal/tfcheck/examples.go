package tfcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Example is an example configuration that calls a module and passes every
// variable of it on, so that whatever is set in its terraform.tfvars takes
// effect. Its variables.tf and module.tf are generated from the module
// (ExampleFiles); main.tf (providers) and outputs.tf are written by hand.
type Example struct {
	Dir    string // terraform/examples/gcp
	Module string // the call's source, relative to Dir
	Call   string // the module block's name
	// Derived are the variables the example passes on derived from its own
	// (a path defaulting to this checkout's build): the example's
	// variable, and the argument.
	Derived map[string]DerivedVariable
}

// DerivedVariable is an example variable passed on through an expression.
type DerivedVariable struct {
	Description string // of the example's variable, which defaults to null
	Expr        string // the module argument
}

// Examples are the example configurations under terraform/examples.
var Examples = []Example{
	{Dir: "examples/gcp", Module: "../../modules/gcp", Call: "eventrelay", Derived: map[string]DerivedVariable{
		"source_archive": {"Path of the source archive; null uses dist/gcp-source.zip of this checkout (make dist).",
			`coalesce(var.source_archive, "${path.root}/../../../dist/gcp-source.zip")`},
	}},
	{Dir: "examples/aws", Module: "../../modules/aws", Call: "eventrelay", Derived: map[string]DerivedVariable{
		"lambda_zip": {"Path of the Lambda zip; null uses dist/lambda-arm64.zip of this checkout (make dist).",
			`coalesce(var.lambda_zip, "${path.root}/../../../dist/lambda-arm64.zip")`},
	}},
}

// generatedNote heads a generated file: from which module, what it holds.
const generatedNote = `# GENERATED from %s: %s
# Do not edit: change the module, then
#   go test ./internal/tfcheck -run TestExamplesPassEveryVariable -update

`

// moduleVariableAttributes are copied from the module's variables; the
// module keeps the validations (its messages name its variables).
var moduleVariableAttributes = []string{"type", "description", "default", "sensitive", "nullable"}

// ExampleFiles returns the generated files of an example (variables.tf,
// module.tf) from the module under root (the terraform directory).
func ExampleFiles(root string, ex Example) (map[string][]byte, error) {
	moduleDir := filepath.Join(root, ex.Dir, ex.Module)
	names, err := filepath.Glob(filepath.Join(moduleDir, "*.tf"))
	if err != nil {
		return nil, err
	}
	// variables.tf first, then the files that keep a feature's variables
	// beside it.
	sort.Slice(names, func(i, j int) bool {
		vi, vj := filepath.Base(names[i]) == "variables.tf", filepath.Base(names[j]) == "variables.tf"
		if vi != vj {
			return vi
		}
		return names[i] < names[j]
	})
	rel := filepath.ToSlash(filepath.Join("terraform", ex.Dir, ex.Module))
	rel = filepath.ToSlash(filepath.Clean(rel))
	vars := hclwrite.NewEmptyFile()
	call := hclwrite.NewEmptyFile()
	mod := call.Body().AppendNewBlock("module", []string{ex.Call}).Body()
	mod.SetAttributeValue("source", cty.StringVal(ex.Module))
	mod.AppendNewline()
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, diags
		}
		for _, b := range f.Body().Blocks() {
			if b.Type() != "variable" || len(b.Labels()) != 1 {
				continue
			}
			v := b.Labels()[0]
			out := vars.Body().AppendNewBlock("variable", []string{v}).Body()
			if d, ok := ex.Derived[v]; ok {
				out.SetAttributeRaw("type", b.Body().GetAttribute("type").Expr().BuildTokens(nil))
				out.SetAttributeValue("description", cty.StringVal(d.Description))
				out.SetAttributeRaw("default", hclwrite.TokensForIdentifier("null"))
				tokens, err := exprTokens(d.Expr)
				if err != nil {
					return nil, fmt.Errorf("%s: derived %s: %w", ex.Dir, v, err)
				}
				mod.SetAttributeRaw(v, tokens)
			} else {
				for _, a := range moduleVariableAttributes {
					if attr := b.Body().GetAttribute(a); attr != nil {
						out.SetAttributeRaw(a, attr.Expr().BuildTokens(nil))
					}
				}
				mod.SetAttributeTraversal(v, hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: v}})
			}
			vars.Body().AppendNewline()
		}
	}
	header := func(what string) []byte {
		return []byte(fmt.Sprintf(generatedNote, rel, what))
	}
	return map[string][]byte{
		"variables.tf": append(header("every variable of the module, with\n# its type, description and default, so that any of them set in\n# terraform.tfvars takes effect (the module checks the values)."),
			hclwrite.Format(trimBlankEnd(vars.Bytes()))...),
		"module.tf": append(header("the module, every variable passed on."),
			hclwrite.Format(call.Bytes())...),
	}, nil
}

func trimBlankEnd(b []byte) []byte {
	return []byte(strings.TrimRight(string(b), "\n") + "\n")
}

// exprTokens are the tokens of an expression's source text.
func exprTokens(src string) (hclwrite.Tokens, error) {
	f, diags := hclwrite.ParseConfig([]byte("x = "+src+"\n"), "expr", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return f.Body().GetAttribute("x").Expr().BuildTokens(nil), nil
}
