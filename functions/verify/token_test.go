package verify

import (
	"crypto/subtle"
	"strings"
	"testing"
	"time"
)

// TestBlankTokenSecretFailsClosed: with a token header configured, a token
// secret holding only blanks answers 503, not every callback let through
// (the code before turned the check off).
func TestBlankTokenSecretFailsClosed(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TokenHeader = "X-Verify-Token" }, staticKeys{keys: []string{hmacKey}, token: ""})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	if status, resp := f.call(t, callbackBody("ord-77", evTime, "24000"), nil); status != 503 || reasonOf(resp) != ReasonUnavailable {
		t.Fatalf("blank token secret: %d %s; want 503 %s", status, resp, ReasonUnavailable)
	}
}

// TestTokenOfAnyLengthRefused: a token that is a prefix of the right one,
// or longer, is refused like any other.
func TestTokenOfAnyLengthRefused(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TokenHeader = "X-Verify-Token" }, staticKeys{keys: []string{hmacKey}, token: "static-token"})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	for _, tok := range []string{"", "static", "static-token-and-more", "static-tokeN"} {
		if status, resp := f.call(t, callbackBody("ord-77", evTime, "24000"), map[string]string{"X-Verify-Token": tok}); status != 401 || reasonOf(resp) != ReasonBadToken {
			t.Errorf("token %q: %d %s", tok, status, resp)
		}
	}
}

// TestTokenComparedAtOneLength: whatever the presented token's length, the
// comparison is of two 32-byte values, so the time it takes tells nothing
// of the configured token's length (the code before compared the raw
// strings, and ConstantTimeCompare returns at once on a length mismatch).
func TestTokenComparedAtOneLength(t *testing.T) {
	var lengths [][2]int
	tokenEqual = func(got, want []byte) bool {
		lengths = append(lengths, [2]int{len(got), len(want)})
		return subtle.ConstantTimeCompare(got, want) == 1
	}
	defer func() { tokenEqual = func(got, want []byte) bool { return subtle.ConstantTimeCompare(got, want) == 1 } }()
	f := newFixture(t, func(c *Config) { c.TokenHeader = "X-Verify-Token" }, staticKeys{keys: []string{hmacKey}, token: "static-token"})
	evTime := testNow.Add(-time.Minute)
	f.record(t, "ord-77", evTime, 24000)
	tokens := []string{"x", "static-toke", "static-tokeN", "static-token", "static-token-and-more", strings.Repeat("t", 4000)}
	for _, tok := range tokens {
		f.call(t, callbackBody("ord-77", evTime, "24000"), map[string]string{"X-Verify-Token": tok})
	}
	if len(lengths) != len(tokens) {
		t.Fatalf("%d comparisons for %d requests", len(lengths), len(tokens))
	}
	for i, l := range lengths {
		if l != [2]int{32, 32} {
			t.Errorf("token %q compared at lengths %v, want 32 and 32", tokens[i], l)
		}
	}
}
