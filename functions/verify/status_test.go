package verify

import (
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// TestReasonStatusMatchesDocs: docs/verify.md's Reasons table and
// reasonStatus say the same; a reason outside reasonStatus is answered with
// the configured failure status (422 by default).
func TestReasonStatusMatchesDocs(t *testing.T) {
	documented := readme.Statuses(t, readme.Section(t, "docs/verify.md", "\n## Reasons\n", "\n## Verify settings"), 1, 0)
	for reason, status := range documented {
		want, ok := reasonStatus[reason]
		if !ok {
			want = 422
		}
		if status != want {
			t.Errorf("docs/verify.md says %s is %d; the code answers %d", reason, status, want)
		}
	}
	for reason, status := range reasonStatus {
		if _, ok := documented[reason]; !ok {
			t.Errorf("docs/verify.md: reason %s (%d) is not in the Reasons table", reason, status)
		}
	}
}
