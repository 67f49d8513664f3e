package tfcheck

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "write the examples' generated files")

// TestExamplesPassEveryVariable: each example's variables.tf and module.tf
// are what ExampleFiles makes from its module today, so every module
// variable (one another engineer adds included) is declared by the example
// and passed on. -update writes them.
func TestExamplesPassEveryVariable(t *testing.T) {
	for _, ex := range Examples {
		files, err := ExampleFiles(tfRoot, ex)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range files {
			path := filepath.Join(tfRoot, ex.Dir, name)
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("terraform/%s/%s is not what the module makes (a variable added, changed or not passed on): run go test ./internal/tfcheck -run TestExamplesPassEveryVariable -update", ex.Dir, name)
			}
		}
	}
}
