package tfcheck

import (
	"path/filepath"
	"testing"
)

// TestIngestGCEnvironment pins the garbage-collector settings both modules
// give ingest with their defaults (256 MB): GOGC 400 and GOMEMLIMIT 3/8 of the
// memory (96 MiB), in bytes (the Go runtime reads a plain number as bytes).
func TestIngestGCEnvironment(t *testing.T) {
	for _, c := range []struct{ dir, resource, block, attr string }{
		{"gcp", "google_cloudfunctions2_function", "service_config", "environment_variables"},
		{"aws", "aws_lambda_function", "environment", "variables"},
	} {
		m := load(t, filepath.Join(tfRoot, "modules", c.dir))
		found := false
		for _, key := range m.resourcesOf(c.resource) {
			b := m.Resources[key]
			a := attr(block(b, c.block), c.attr)
			for _, in := range m.eval.instances(b) {
				if in.Key != "ingest" {
					continue
				}
				found = true
				vm := m.eval.value(a.Expr, in).AsValueMap() // other values (resource ids) are unknown here
				for name, want := range map[string]string{"GOGC": "400", "GOMEMLIMIT": "100663296"} {
					if v, ok := vm[name]; !ok || !v.IsKnown() || v.AsString() != want {
						t.Errorf("%s: ingest's %s = %#v, want %q", c.dir, name, v, want)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: no ingest function found", c.dir)
		}
	}
}
