package erase

import (
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// TestErrorStatusMatchesREADME: the README's table of refused erase
// requests and errorStatus say the same.
func TestErrorStatusMatchesREADME(t *testing.T) {
	documented := readme.Statuses(t, readme.Section(t, "\n### Erasure\n", "\nEach request writes one `erase` log line"), 0, 2)
	for code, status := range documented {
		if want, ok := errorStatus[code]; !ok || status != want {
			t.Errorf("README says %s is %d; the code answers %d", code, status, want)
		}
	}
	for code, status := range errorStatus {
		if _, ok := documented[code]; !ok {
			t.Errorf("README: code %s (%d) is not in the Erasure table", code, status)
		}
	}
}
