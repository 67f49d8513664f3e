// Package packaging builds the two artifacts Terraform deploys: the Go
// source archive Cloud Functions builds with Google's buildpack, and the
// Lambda zip holding the bootstrap binary. Both are byte-for-byte
// reproducible (sorted entries, fixed times), so their hashes change only
// when their content does and Terraform redeploys only then.
package packaging

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// fixedTime is stamped on every entry; zip cannot store times before 1980.
var fixedTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// The buildpack builds the entry package (the module root) for linux/amd64.
var buildEnv = []string{"GOOS=linux", "GOARCH=amd64"}

// SourceFiles lists, relative to root, what goes into the Cloud Functions
// source archive: go.mod, go.sum and the Go files of the module's own
// packages the entry package (the module root) builds from, as `go list
// -deps` finds them for the buildpack's linux/amd64 build, in a stable
// order. Test files, test helpers, the commands and the packages only the
// Lambda bootstrap links stay out.
func SourceFiles(root string) ([]string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .CgoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{end}}{{end}}`, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps in %s: %v: %s", root, err, stderr.String())
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		dir, err := filepath.Rel(abs, parts[0])
		if err != nil || strings.HasPrefix(dir, "..") {
			return nil, fmt.Errorf("package folder %s is outside %s", parts[0], abs)
		}
		for _, f := range parts[1:] {
			files = append(files, filepath.ToSlash(filepath.Join(dir, f)))
		}
	}
	for _, f := range files[:2] {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return files, nil
}

// WriteSourceZip writes the Cloud Functions source archive of the module
// at root: go.mod at the archive root, the function package at the module
// root, as the buildpack expects.
func WriteSourceZip(root string, w io.Writer) error {
	files, err := SourceFiles(root)
	if err != nil {
		return err
	}
	if !slices.Contains(files, "go.mod") {
		return fmt.Errorf("%s has no go.mod", root)
	}
	zw := zip.NewWriter(w)
	for _, f := range files {
		if err := addFile(zw, filepath.Join(root, f), f, 0o644); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteLambdaZip writes a zip holding binary as an executable "bootstrap",
// the name the provided.al2023 runtime runs.
func WriteLambdaZip(binary string, w io.Writer) error {
	zw := zip.NewWriter(w)
	if err := addFile(zw, binary, "bootstrap", 0o755); err != nil {
		return err
	}
	return zw.Close()
}

func addFile(zw *zip.Writer, path, name string, mode fs.FileMode) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	// Read only: a Close error cannot change what was copied.
	defer func() { _ = src.Close() }()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime}
	h.SetMode(mode)
	dst, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	return nil
}
