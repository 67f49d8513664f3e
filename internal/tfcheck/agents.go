package tfcheck

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// namesAgent: a member expression names the service agent of an API
// (service "pubsub": service-N@gcp-sa-pubsub.iam.gserviceaccount.com), spelled
// out or, as a fresh project needs, through a google_project_service_identity
// of <service>.googleapis.com, directly or through a local.
func (m *Module) namesAgent(e hclsyntax.Expression, service string) bool {
	if strings.Contains(m.source(e), "@gcp-sa-"+service+".iam.gserviceaccount.com") {
		return true
	}
	for _, r := range m.identityRefs(e) {
		b, in, ok := m.instanceOf(r)
		if !ok {
			continue
		}
		if s, _ := knownString(m.evalAttr(b, "service", in)); s == service+".googleapis.com" {
			return true
		}
	}
	return false
}

// identityRefs are the google_project_service_identity references of an
// expression and of the locals it reads (one level).
func (m *Module) identityRefs(e hclsyntax.Expression) []ref {
	var out []ref
	add := func(e hclsyntax.Expression) {
		for _, r := range refsOf(e) {
			if r.Type == "google_project_service_identity" {
				out = append(out, r)
			}
		}
	}
	add(e)
	for _, t := range e.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if a, ok := t[1].(hcl.TraverseAttr); ok && m.Locals[a.Name] != nil {
			add(m.Locals[a.Name].Expr)
		}
	}
	return out
}
