package verify

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReasonStatusMatchesREADME: the README's Reasons table and
// reasonStatus say the same; a reason outside the table is answered with
// the configured failure status (422 by default).
func TestReasonStatusMatchesREADME(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n### Reasons\n")
	if !ok {
		t.Fatal("README: the verify section's ### Reasons table is missing")
	}
	section, _, _ = strings.Cut(section, "\n\n#")
	row := regexp.MustCompile("(?m)^\\| `([a-z_:]+)` \\| ([0-9]{3}) \\|")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		reason, status := m[1], m[2]
		documented[reason] = true
		want, ok := reasonStatus[reason]
		if !ok {
			want = 422
		}
		if got, _ := strconv.Atoi(status); got != want {
			t.Errorf("README says %s is %d; the code answers %d", reason, got, want)
		}
	}
	if len(documented) < len(reasonStatus) {
		t.Fatalf("README: only %d reasons read from the table", len(documented))
	}
	for reason := range reasonStatus {
		if !documented[reason] {
			t.Errorf("README: reason %s (%d) is not in the Reasons table", reason, reasonStatus[reason])
		}
	}
}
