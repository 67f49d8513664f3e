package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

// A value from a caller (a refused id, say) reaches the log with its C1
// controls and bidirectional overrides spelled out, so the line reads as it
// is in a terminal or a console; other text stays as it was.
func TestCallerTextIsEscapedWhereItWouldChangeHowTheLogReads(t *testing.T) {
	var out bytes.Buffer
	log, err := New(&out, "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("ingest event", slog.String("event_id", "evt-\u202e1"), slog.String("user", "u\u009b31m"),
		slog.Group("g", slog.String("v", "\u2066x\u2069")), slog.String("name", "사용자 café \u200f"))
	for _, c := range []rune{'\u202e', '\u009b', '\u2066', '\u2069'} {
		if bytes.ContainsRune(out.Bytes(), c) {
			t.Errorf("the line carries %U as it is: %s", c, out.Bytes())
		}
	}
	var line struct {
		EventID string             `json:"event_id"`
		User    string             `json:"user"`
		Name    string             `json:"name"`
		G       struct{ V string } `json:"g"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{line.EventID, `evt-\u202e1`}, {line.User, `u\u009b31m`}, {line.G.V, `\u2066x\u2069`},
		{line.Name, "사용자 café \u200f"}, // right-to-left marks and other text stay
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
