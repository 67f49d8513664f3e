package verify

import (
	"net/http"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
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

// TestReasonStatusMatchesContract: the reasons verify answers, with their
// statuses under the default configuration, are those api/openapi.yaml
// lists for a callback, neither more nor fewer.
func TestReasonStatusMatchesContract(t *testing.T) {
	emitted := map[string]int{}
	for _, reason := range []string{ReasonUnsigned, ReasonBadSignature, ReasonBadToken, ReasonIPNotAllowed,
		ReasonTooLarge, ReasonMalformed, ReasonNoEventTime, ReasonStale, ReasonUnsupported, ReasonNoIdentifier, ReasonNoIdentity, ReasonNoAmount, ReasonNoCurrency,
		ReasonNotFound, ReasonAlreadyConfirmed, ReasonTime, ReasonAmount, ReasonCurrency, ReasonDevice, ReasonUser,
		ReasonUnavailable, "not_configured"} { // not_configured: internal/setup, with the configured failure
		status, ok := reasonStatus[reason]
		if !ok {
			status = http.StatusUnprocessableEntity // the default VERIFY_FAILURE_STATUS
		}
		emitted[reason] = status
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		contract := apicontract.Codes(t, method, apicontract.Verify.Path(), "reason")
		if method == http.MethodGet {
			delete(emitted, ReasonTooLarge) // a GET has no body
		}
		apicontract.CheckCodes(t, emitted, contract)
	}
}
