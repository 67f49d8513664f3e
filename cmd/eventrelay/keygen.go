package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"eventrelay.dev/eventrelay/shared/auth"
)

type keygenFlags struct {
	fs              *flag.FlagSet
	id, source, out *string
}

func newKeygenFlags() keygenFlags {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	return keygenFlags{fs: fs,
		id:     fs.String("id", "", "key id, e.g. shop-2026b (letters, digits, - and _)"),
		source: fs.String("source", "", "the source this key authenticates, e.g. shop-backend"),
		out:    fs.String("o", "", "write the key to this new file (mode 0600), outside any git checkout; default: standard output"),
	}
}

func runKeygen(args []string) error {
	f := newKeygenFlags()
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	id, source, out := f.id, f.source, f.out
	var keyFile io.WriteCloser = nopCloser{os.Stdout}
	if *out != "" {
		f, err := createKeyFile(*out)
		if err != nil {
			return err
		}
		keyFile = f
	}
	presented, stored, err := auth.NewAPIKey(*id, *source)
	if err != nil {
		errs := []error{err, keyFile.Close()}
		if *out != "" {
			errs = append(errs, os.Remove(*out))
		}
		return errors.Join(errs...)
	}
	entry, _ := json.Marshal(stored)
	if *out == "" {
		fmt.Fprintln(os.Stderr, "Give this key to the caller (shown once, never stored):")
	}
	if _, err := fmt.Fprintln(keyFile, presented); err != nil {
		return err
	}
	if err := keyFile.Close(); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(os.Stderr, "The key is in %s (mode 0600): give it to the caller, then delete the file.\n", *out)
	}
	fmt.Fprintln(os.Stderr, `Add this entry to the "api_keys" array of the ingest API keys secret:`)
	fmt.Println(string(entry))
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// createKeyFile creates path for the plaintext key: a new file, readable by
// its owner only, and never inside a git checkout, where one `git add -A`
// would publish it.
func createKeyFile(path string) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("-o %s: %w", path, err)
	}
	if repo := gitCheckout(dir); repo != "" {
		return nil, fmt.Errorf("-o %s is inside the git checkout %s; write the key outside it (e.g. -o ~/eventrelay-keys/%s)", path, repo, filepath.Base(abs))
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("-o %s exists; keygen never overwrites a key file", path)
	}
	return f, err
}

// gitCheckout returns the folder holding .git (a directory, or the file a
// worktree has) at or above dir, or "".
func gitCheckout(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}
