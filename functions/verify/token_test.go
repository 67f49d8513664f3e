package verify

import (
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
