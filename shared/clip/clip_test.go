package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"cut here", 3, "cut"},
		// "é" is two bytes: a cut after its first byte drops it whole.
		{"café au lait", 4, "caf"},
		{"café", 5, "café"},
		// A lone continuation byte and a control byte are replaced.
		{"a\x80b\x00c", -1, "a\uFFFDb\uFFFDc"},
		{"tab\tnew\nline", -1, "tab\tnew\nline"},
		{"\xff\xfe", 3, "\uFFFD"},
		{"한국어", 7, "한국"},
		{"anything", 0, ""},
	}
	for _, c := range cases {
		if got := String(c.in, c.n); got != c.want {
			t.Errorf("String(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add([]byte("café"), 4)
	f.Add([]byte("\xe2\x82\xac\xe2\x82"), 5)
	f.Add([]byte("a\x00\xffb"), 2)
	f.Add([]byte(strings.Repeat("한", 300)), 512)
	f.Fuzz(func(t *testing.T, in []byte, n int) {
		n %= 2048
		got := String(string(in), n)
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q, %d) = %q: not valid UTF-8", in, n, got)
		}
		if n >= 0 && len(got) > n {
			t.Fatalf("String(%q, %d) is %d bytes", in, n, len(got))
		}
		for _, r := range got {
			if !allowed(r) {
				t.Fatalf("String(%q, %d) = %q keeps %U", in, n, got, r)
			}
		}
		// Valid, allowed input short enough comes back unchanged.
		if utf8.Valid(in) && !strings.ContainsFunc(string(in), func(r rune) bool { return !allowed(r) }) &&
			(n < 0 || len(in) <= n) && got != string(in) {
			t.Fatalf("String(%q, %d) = %q changed clean input", in, n, got)
		}
		// The result is a prefix of the whole cleaned text.
		if whole := String(string(in), -1); !strings.HasPrefix(whole, got) {
			t.Fatalf("String(%q, %d) = %q is not a prefix of %q", in, n, got, whole)
		}
	})
}
