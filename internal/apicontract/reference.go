package apicontract

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ReferenceFile is the HTTP reference generated from the contract.
const ReferenceFile = "docs/http-api.md"

// Reference renders the contract as the Markdown of ReferenceFile: each
// operation with its request and a table of every answer (status, when,
// headers, the machine-readable codes its body can carry).
func Reference(doc *openapi3.T) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# HTTP API reference\n\n")
	fmt.Fprintf(&b, "<!-- Generated from %s by `go test ./internal/apicontract -run TestReference -update`. Do not edit: edit the contract. -->\n\nThe body schemas named below are in [%s](../%s)'s components.\n\n", File, File, File)
	fmt.Fprintf(&b, "%s\n", strings.TrimSpace(doc.Info.Description))
	tagOrder := map[string]int{}
	for i, tag := range doc.Tags {
		tagOrder[tag.Name] = i
	}
	type entry struct {
		path, method string
		op           *openapi3.Operation
		servers      openapi3.Servers
	}
	var ops []entry
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			servers := item.Servers
			if len(servers) == 0 {
				servers = doc.Servers
			}
			ops = append(ops, entry{path, method, op, servers})
		}
	}
	slices.SortFunc(ops, func(a, b entry) int {
		if d := tagOrder[firstTag(a.op)] - tagOrder[firstTag(b.op)]; d != 0 {
			return d
		}
		if a.path != b.path {
			return strings.Compare(a.path, b.path)
		}
		return strings.Compare(b.method, a.method) // POST before GET
	})
	for _, e := range ops {
		fmt.Fprintf(&b, "\n## %s %s\n\n", e.method, e.path)
		fmt.Fprintf(&b, "%s (`%s`; on %s)\n", e.op.Summary, e.op.OperationID, serverNames(e.servers))
		if d := strings.TrimSpace(e.op.Description); d != "" {
			fmt.Fprintf(&b, "\n%s\n", d)
		}
		writeRequest(&b, doc, e.op)
		writeAnswers(&b, e.op)
	}
	return b.String()
}

func firstTag(op *openapi3.Operation) string {
	if len(op.Tags) == 0 {
		return ""
	}
	return op.Tags[0]
}

func serverNames(servers openapi3.Servers) string {
	var names []string
	for _, s := range servers {
		for name := range s.Variables {
			names = append(names, "`"+name+"`")
		}
	}
	return strings.Join(names, ", ")
}

func writeRequest(b *strings.Builder, doc *openapi3.T, op *openapi3.Operation) {
	var lines []string
	if op.Security != nil {
		var ways []string
		for _, req := range *op.Security {
			for name := range req {
				ways = append(ways, credential(doc, name))
			}
		}
		slices.Sort(ways)
		lines = append(lines, "- credentials, one of: "+strings.Join(ways, "; "))
	}
	for _, p := range op.Parameters {
		v := p.Value
		need := "optional"
		if v.Required {
			need = "required"
		}
		lines = append(lines, fmt.Sprintf("- %s `%s` (%s, %s): %s", v.In, v.Name, schemaType(v.Schema), need, oneLine(v.Description)))
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		var types []string
		for _, mime := range sortedKeys(rb.Value.Content) {
			types = append(types, fmt.Sprintf("`%s` (%s)", mime, schemaName(rb.Value.Content[mime].Schema)))
		}
		need := "optional"
		if rb.Value.Required {
			need = "required"
		}
		line := fmt.Sprintf("- body (%s): %s", need, strings.Join(types, " or "))
		if d := oneLine(rb.Value.Description); d != "" {
			line += ". " + d
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "\nRequest:\n\n%s\n", strings.Join(lines, "\n"))
	}
}

func credential(doc *openapi3.T, name string) string {
	ref := doc.Components.SecuritySchemes[name]
	if ref == nil || ref.Value == nil {
		return name
	}
	s := ref.Value
	if s.Type == "http" {
		return fmt.Sprintf("%s (`Authorization: Bearer …`)", name)
	}
	return fmt.Sprintf("%s (header `%s`)", name, s.Name)
}

func writeAnswers(b *strings.Builder, op *openapi3.Operation) {
	fmt.Fprintf(b, "\n| status | when | headers | body | codes |\n|---|---|---|---|---|\n")
	answers := op.Responses.Map()
	for _, code := range sortedKeys(answers) {
		r := answers[code].Value
		var headers []string
		for _, name := range sortedKeys(r.Headers) {
			h := r.Headers[name].Value
			if h.Required {
				headers = append(headers, "`"+name+"`")
			} else {
				headers = append(headers, "`"+name+"` (when given)")
			}
		}
		var bodies, codes []string
		for _, mime := range sortedKeys(r.Content) {
			s := r.Content[mime].Schema
			bodies = append(bodies, fmt.Sprintf("`%s` %s", mime, schemaName(s)))
			if s != nil {
				codes = append(codes, enums(s.Value, "", mime)...)
			}
		}
		codes = unique(codes)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", code, cell(deref(r.Description)), strings.Join(headers, ", "),
			strings.Join(bodies, "; "), strings.Join(codes, "; "))
	}
}

// enums lists the string enums of s as "`path`: `a`, `b`", through allOf,
// oneOf, anyOf, properties and array items; a plain-text body's values are
// the body itself.
func enums(s *openapi3.Schema, path, mime string) []string {
	if s == nil {
		return nil
	}
	var out []string
	if len(s.Enum) > 0 && path != "" || len(s.Enum) > 0 && !strings.HasSuffix(mime, "json") {
		var vs []string
		for _, v := range s.Enum {
			vs = append(vs, "`"+strings.TrimSpace(fmt.Sprint(v))+"`")
		}
		label := path
		if label == "" {
			label = "body"
		}
		out = append(out, fmt.Sprintf("%s: %s", label, strings.Join(vs, ", ")))
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, sub := range group {
			out = append(out, enums(sub.Value, path, mime)...)
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		p := name
		if path != "" {
			p = path + "." + name
		}
		out = append(out, enums(s.Properties[name].Value, p, mime)...)
	}
	if s.Items != nil {
		out = append(out, enums(s.Items.Value, path+"[]", mime)...)
	}
	return out
}

func schemaName(ref *openapi3.SchemaRef) string {
	switch {
	case ref == nil:
		return "any"
	case ref.Ref != "":
		return ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	case len(ref.Value.OneOf) > 0:
		var names []string
		for _, s := range ref.Value.OneOf {
			names = append(names, schemaName(s))
		}
		return strings.Join(names, " or ")
	}
	return schemaType(ref)
}

func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil || len(*ref.Value.Type) == 0 {
		return "any"
	}
	t := (*ref.Value.Type)[0]
	if f := ref.Value.Format; f != "" {
		t += ", " + f
	}
	return t
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func unique(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
