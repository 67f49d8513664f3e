// Package logging builds the JSON slog logger every function uses. Field
// names follow Cloud Logging's structured-log conventions ("severity",
// "message", "time"), which CloudWatch Logs also stores and queries as JSON.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// New returns a JSON logger writing to w at the given level name
// (debug, info, warn, error). Lines logged with a context from WithBuffer
// are held and written together (see Buffer).
func New(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("log level %q is not one of debug, info, warn, error", level)
	}
	return slog.New(newHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: cloudFields})), nil
}

func cloudFields(groups []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindString {
		if s := a.Value.String(); !ascii(s) {
			a.Value = slog.StringValue(escapeInvisible(s))
		}
	}
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		return slog.String("severity", severity(a.Value.Any().(slog.Level)))
	case slog.MessageKey:
		a.Key = "message"
	}
	return a
}

// severity maps slog levels onto Cloud Logging's LogSeverity names.
func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// escapeInvisible spells out, as \u escapes in the text, the characters
// that a caller's value (an id ingest refused, a failed callback's order
// id) could carry, that slog's JSON leaves as they are, and that change how
// a log reads: C1 controls (a C1 CSI starts an escape sequence in a
// terminal showing the log) and the bidirectional embeddings, overrides and
// isolates (they reorder what a reader sees). slog already escapes C0,
// U+2028 and U+2029.
func escapeInvisible(s string) string {
	if !strings.ContainsFunc(s, invisible) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if invisible(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func invisible(r rune) bool {
	return (0x80 <= r && r <= 0x9f) || (0x202a <= r && r <= 0x202e) || (0x2066 <= r && r <= 0x2069)
}
