package attest

import (
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// TestReasonStatusMatchesDocs: every reason of reasonStatus is in the
// docs/attestation.md's table of refused exchanges, under its status.
func TestReasonStatusMatchesDocs(t *testing.T) {
	documented := readme.Statuses(t, readme.Section(t, "docs/attestation.md", "A refused exchange answers", "\nChecks that cost nothing"), 0, 1)
	for reason, want := range reasonStatus {
		if reason == reasonNotFound || reason == reasonMethod {
			continue // not an exchange's refusal: no route, or not a POST
		}
		switch got, ok := documented[reason]; {
		case !ok:
			t.Errorf("docs/attestation.md: reason %s (%d) is not in the table", reason, want)
		case got != want:
			t.Errorf("docs/attestation.md says %s is %d; the code answers %d", reason, got, want)
		}
	}
}
