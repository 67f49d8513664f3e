package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// countingHash counts the bytes given to every hash auth makes.
type countingHash struct {
	hash.Hash
	n *int
}

func (c countingHash) Write(p []byte) (int, error) { *c.n += len(p); return c.Hash.Write(p) }

// hashedBytes is the bytes hashed while f runs.
func hashedBytes(t *testing.T, f func()) int {
	n := 0
	newHash = func() hash.Hash { return countingHash{sha256.New(), &n} }
	t.Cleanup(func() { newHash = sha256.New })
	f()
	newHash = sha256.New
	return n
}

// equalWorkAuth has source "shop" with a live signing key, source
// "retired" with an expired one, and API key "k1" of "shop".
func equalWorkAuth(t *testing.T) (*Authenticator, string) {
	t.Helper()
	presented, entry, err := NewAPIKey("k1", "shop")
	if err != nil {
		t.Fatal(err)
	}
	apiFile := `{"api_keys":[` + mustJSON(t, entry) + `]}`
	src := secrets.NewMemory(map[string]string{"api": apiFile,
		"signing": `{"signing_keys":[{"source":"shop","secret":"live-signing-secret-0001"},` +
			`{"source":"retired","secret":"old-signing-secret-0002","expires":"2020-01-01T00:00:00Z"}]}`})
	a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, APIKeysSecret: "api",
		SigningKeysSecret: "signing", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// Read the keys once, so no run below counts the first parse.
	_, _ = a.Authenticate(context.Background(), http.Header{"X-Api-Key": {presented}}, nil)
	return a, presented
}

// TestWrongSignatureCostsTheSameForEverySource: a wrong MAC over a 400 KB
// body costs the same hashing whether the source has a signing key, had
// one that expired, or never had one, so the time taken does not tell
// which sources sign (issue 25, point 6: the code before computed no MAC
// for a source without keys, 409 µs against 677 µs). Bytes hashed, not
// time, so the test is exact on a busy machine.
func TestWrongSignatureCostsTheSameForEverySource(t *testing.T) {
	a, _ := equalWorkAuth(t)
	body := []byte(strings.Repeat("x", 400<<10))
	wrong := Sign(now, body, "not-the-secret-of-anyone")
	work := map[string]int{}
	for _, source := range []string{"shop", "retired", "nobody"} {
		work[source] = hashedBytes(t, func() {
			_, err := a.Authenticate(context.Background(), http.Header{HeaderSource: {source}, HeaderSignature: {wrong}}, body)
			if reason(err) != ReasonBadSignature {
				t.Fatalf("%s: %v, want %s", source, err, ReasonBadSignature)
			}
		})
	}
	if work["shop"] < len(body) {
		t.Fatalf("a known source's wrong MAC hashed %d bytes, less than the body's %d", work["shop"], len(body))
	}
	for source, n := range work {
		if n != work["shop"] {
			t.Errorf("source %s: %d bytes hashed, a source with a key %d: the time tells them apart", source, n, work["shop"])
		}
	}
}

// TestWrongAPIKeyCostsTheSameForEveryID: an unknown key id hashes what a
// known id with a wrong secret does.
func TestWrongAPIKeyCostsTheSameForEveryID(t *testing.T) {
	a, presented := equalWorkAuth(t)
	id, secret, _ := strings.Cut(presented, ".")
	wrong := strings.Repeat("A", len(secret))
	work := map[string]int{}
	for _, key := range []string{id + "." + wrong, "unknown." + wrong} {
		work[key] = hashedBytes(t, func() {
			if _, err := a.Authenticate(context.Background(), http.Header{"X-Api-Key": {key}}, nil); reason(err) != ReasonInvalidKey {
				t.Fatalf("%s: %v", key, err)
			}
		})
	}
	if work[id+"."+wrong] == 0 || work[id+"."+wrong] != work["unknown."+wrong] {
		t.Errorf("bytes hashed: %v, want equal and not zero", work)
	}
}

// BenchmarkWrongSignature is the timing the counts above stand for: a
// wrong MAC over 400 KB for a source with a key and one without.
func BenchmarkWrongSignature(b *testing.B) {
	body := []byte(strings.Repeat("x", 400<<10))
	wrong := Sign(now, body, "not-the-secret-of-anyone")
	src := secrets.NewMemory(map[string]string{"signing": `{"signing_keys":[{"source":"shop","secret":"live-signing-secret-0001"}]}`})
	a, err := New(Config{Tolerance: settings.IngestSignatureTolerance.Default, Secrets: src, SigningKeysSecret: "signing",
		Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for _, source := range []string{"known", "unknown"} {
		name := map[string]string{"known": "shop", "unknown": "nobody"}[source]
		b.Run(source, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			h := http.Header{HeaderSource: {name}, HeaderSignature: {wrong}}
			for b.Loop() {
				_, _ = a.Authenticate(context.Background(), h, body)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
