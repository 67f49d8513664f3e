// Package clip shortens and cleans free text (a platform's error message, a
// reason) before it goes into a queue attribute or a log line. Queues refuse
// invalid attribute values: Pub/Sub wants valid UTF-8, SQS a string of XML
// characters. A message cut at a byte offset in the middle of a character,
// or carrying control bytes, would make every dead-letter publish fail and
// the message loop for ever.
package clip

import (
	"strings"
	"unicode/utf8"
)

// String returns s with every byte sequence that is not valid UTF-8 and
// every character a queue refuses in an attribute replaced by U+FFFD, cut
// on a character boundary so that the result is at most n bytes (n < 0:
// no limit). The result is always valid UTF-8.
func String(s string, n int) string {
	if n == 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || !allowed(r) {
			r = utf8.RuneError
		}
		if n > 0 && b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// allowed is what both queues take in an attribute value: SQS's XML
// character set (tab, newline, carriage return, U+0020–U+D7FF,
// U+E000–U+FFFD, U+10000 and above), which is valid UTF-8 as Pub/Sub asks.
func allowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r < 0xE000:
		return false
	case r == 0xFFFE || r == 0xFFFF:
		return false
	}
	return r <= utf8.MaxRune
}
