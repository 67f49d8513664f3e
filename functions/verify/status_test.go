package verify

import (
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// TestReasonStatusMatchesREADME: the README's Reasons table and
// reasonStatus say the same; a reason outside reasonStatus is answered with
// the configured failure status (422 by default).
func TestReasonStatusMatchesREADME(t *testing.T) {
	documented := readme.Statuses(t, readme.Section(t, "\n### Reasons\n", "\n### Verify settings"), 1, 0)
	for reason, status := range documented {
		want, ok := reasonStatus[reason]
		if !ok {
			want = 422
		}
		if status != want {
			t.Errorf("README says %s is %d; the code answers %d", reason, status, want)
		}
	}
	for reason, status := range reasonStatus {
		if _, ok := documented[reason]; !ok {
			t.Errorf("README: reason %s (%d) is not in the Reasons table", reason, status)
		}
	}
}
