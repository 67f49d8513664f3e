package ingest

import (
	"strconv"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// TestErrorStatusMatchesDocs: every code errorStatus answers a request
// refused as a whole with is in docs/sending-events.md's Answers table, in a row of
// its status. The table's body cells hold JSON with "|" in it, so rows are
// read whole rather than cell by cell.
func TestErrorStatusMatchesDocs(t *testing.T) {
	answers := readme.Section(t, "docs/sending-events.md", "\nAnswers:\n", "\n## Authentication")
	rows := map[int][]string{} // status -> its rows
	for line := range strings.SplitSeq(answers, "\n") {
		cells := strings.SplitN(strings.TrimSpace(line), "|", 3)
		if len(cells) < 3 || cells[0] != "" {
			continue
		}
		if status, err := strconv.Atoi(strings.TrimSpace(cells[1])); err == nil {
			rows[status] = append(rows[status], cells[2])
		}
	}
	if len(rows) == 0 {
		t.Fatal("docs/sending-events.md: the Answers table has no rows")
	}
	for code, status := range errorStatus {
		found := false
		for _, row := range rows[status] {
			found = found || strings.Contains(row, strconv.Quote(code))
		}
		if !found {
			t.Errorf("docs/sending-events.md: the Answers table has no %d row naming %q", status, code)
		}
	}
}
