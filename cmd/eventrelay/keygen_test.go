package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// keygen -o writes a key that authenticates against the printed entry, to
// a new 0600 file, and refuses a path inside a git checkout.
func TestKeygenOutput(t *testing.T) {
	outside := t.TempDir()
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "terraform", "examples", "gcp"), 0o700); err != nil {
		t.Fatal(err)
	}

	for _, p := range []string{filepath.Join(repo, "key.txt"), filepath.Join(repo, "terraform", "examples", "gcp", "key.txt")} {
		err := runKeygen([]string{"-id", "shop-1", "-source", "shop", "-o", p})
		if err == nil || !strings.Contains(err.Error(), "inside the git checkout") {
			t.Fatalf("-o %s: want a refusal, got %v", p, err)
		}
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s was written", p)
		}
	}
	// This checkout too, when the test runs inside one.
	if wd, _ := os.Getwd(); gitCheckout(wd) == "" {
		t.Log("not run from a git checkout: the check on this repository's own folder is left out")
	} else if err := runKeygen([]string{"-id", "shop-1", "-source", "shop", "-o", "key.txt"}); err == nil {
		t.Fatalf("-o key.txt in the eventrelay checkout was accepted (removing it: %v)", os.Remove("key.txt"))
	}

	keyPath := filepath.Join(outside, "shop-1.key")
	stdout := captureStdout(t, func() {
		if err := runKeygen([]string{"-id", "shop-1", "-source", "shop", "-o", keyPath}); err != nil {
			t.Fatal(err)
		}
	})
	info, err := os.Stat(keyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	key, _ := os.ReadFile(keyPath)
	if strings.Contains(stdout, strings.TrimSpace(string(key))) {
		t.Fatal("the key was printed as well as written")
	}
	var entry auth.APIKey
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &entry); err != nil {
		t.Fatalf("stdout is not the entry: %q", stdout)
	}
	file, _ := json.Marshal(auth.APIKeyFile{Keys: []auth.APIKey{entry}})
	a, _ := auth.New(auth.Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: secrets.NewMemory(map[string]string{"keys": string(file)}), APIKeysSecret: "keys"})
	if p, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {strings.TrimSpace(string(key))}}, nil); err != nil || p.Source != "shop" {
		t.Fatalf("the written key does not match the entry: %v", err)
	}
	if err := runKeygen([]string{"-id", "shop-2", "-source", "shop", "-o", keyPath}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwrite: %v", err)
	}
}

func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, _ := os.Pipe()
	old := os.Stdout
	os.Stdout = w
	fn()
	os.Stdout = old
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	return string(b)
}

// Every keygen the docs run uses flags keygen has, and the deploy
// runbooks write keys with -o.
func TestDocsKeygenFlags(t *testing.T) {
	docs := readme.All(t)
	flagName := regexp.MustCompile(`\s-([a-z]+)`)
	var calls, withOutput int
	for line := range strings.SplitSeq(docs, "\n") {
		_, rest, ok := strings.Cut(line, "cmd/eventrelay keygen")
		if !ok {
			continue
		}
		calls++
		rest, _, _ = strings.Cut(rest, ")")
		f := newKeygenFlags()
		for _, m := range flagName.FindAllStringSubmatch(rest, -1) {
			if f.fs.Lookup(m[1]) == nil {
				t.Errorf("docs: keygen -%s is not a keygen flag: %s", m[1], line)
			}
			if m[1] == "o" {
				withOutput++
			}
		}
	}
	if calls == 0 || withOutput < 4 {
		t.Errorf("docs: %d keygen calls, %d with -o; the runbooks write every key with -o", calls, withOutput)
	}
}
