package attest

import (
	"testing"

	"eventrelay.dev/eventrelay/internal/readme"
)

// TestReasonStatusMatchesREADME: every reason of reasonStatus is in the
// README's table of refused exchanges, under its status.
func TestReasonStatusMatchesREADME(t *testing.T) {
	documented := readme.Statuses(t, readme.Section(t, "A refused exchange answers", "\nChecks that cost nothing"), 0, 1)
	for reason, want := range reasonStatus {
		if reason == reasonNotFound || reason == reasonMethod {
			continue // not an exchange's refusal: no route, or not a POST
		}
		switch got, ok := documented[reason]; {
		case !ok:
			t.Errorf("README: reason %s (%d) is not in the table", reason, want)
		case got != want:
			t.Errorf("README says %s is %d; the code answers %d", reason, got, want)
		}
	}
}
