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
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// fixedTime is stamped on every entry; zip cannot store times before 1980.
var fixedTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// excludedDirs hold nothing the functions need at build time.
var excludedDirs = map[string]bool{".git": true, ".ci": true, "bin": true, "dist": true, "docs": true,
	"emulators": true, "node_modules": true, "terraform": true, "testdata": true, "tools": true, "cmd": true}

// SourceFiles lists, relative to root, what goes into the Cloud Functions
// source archive: go.mod, go.sum and every non-test Go file outside the
// excluded folders, in a stable order.
func SourceFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (excludedDirs[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if rel == "go.mod" || rel == "go.sum" || strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(files)
	return files, err
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
	defer src.Close()
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
