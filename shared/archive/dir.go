package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Dir is an archive in a local folder, laid out as the bucket is (the
// object names are paths under it): the local stack's stand-in.
type Dir struct{ Root string }

// Location implements Reader.
func (d Dir) Location() string { return d.Root }

// Files implements Reader.
func (d Dir) Files(_ context.Context, from, to time.Time) ([]File, error) {
	if err := CheckWindow(from, to); err != nil {
		return nil, err
	}
	var out []File
	for _, prefix := range DayPrefixes(from, to) {
		entries, err := os.ReadDir(filepath.Join(d.Root, filepath.FromSlash(prefix)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("archive list: %w", err)
		}
		for _, e := range entries {
			if f, ok := InWindow(prefix+e.Name(), from, to); ok && !e.IsDir() {
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Open implements Reader (archive file names only: CheckName).
func (d Dir) Open(_ context.Context, name string) (io.ReadCloser, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	return os.Open(filepath.Join(d.Root, filepath.FromSlash(name)))
}

// Write stores records as one file starting at start: written aside and
// renamed, so a reader never sees half a file.
func (d Dir) Write(start time.Time, recs []Record) (string, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, recs); err != nil {
		return "", err
	}
	name := NewObjectName(start)
	path := filepath.Join(d.Root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("archive write: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("archive write: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("archive write: %w", err)
	}
	return name, nil
}
