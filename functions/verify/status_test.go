package verify

import (
	"net/http"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/readme"
)

// TestReasonStatusMatchesDocs: docs/verify.md's Reasons table and
// api/openapi.yaml say the same (and the contract is the code's,
// TestReasonStatusMatchesContract).
func TestReasonStatusMatchesDocs(t *testing.T) {
	const doc = "docs/verify.md"
	documented := readme.Statuses(t, readme.Section(t, doc, "\n## Reasons\n", "\n## Verify settings"), 1, 0)
	apicontract.CheckDocTable(t, doc, documented, apicontract.Codes(t, http.MethodPost, apicontract.Verify.Path(), "reason"),
		"not_configured") // docs/deploy.md
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
