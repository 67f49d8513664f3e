package attest

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/readme"
	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/appcheck"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
)

// TestReasonStatusMatchesDocs: docs/attestation.md's table of refused
// exchanges and api/openapi.yaml say the same (and the contract is the
// code's, TestReasonStatusMatchesContract).
func TestReasonStatusMatchesDocs(t *testing.T) {
	const doc = "docs/attestation.md"
	documented := readme.Statuses(t, readme.Section(t, doc, "A refused exchange answers", "\nChecks that cost nothing"), 0, 1)
	apicontract.CheckDocTable(t, doc, documented, exchangeCodes(t),
		"method_not_allowed", "not_configured", "request_timeout") // the answers of every route, stated with them
}

// TestReasonStatusMatchesContract: the reasons the exchange answers, its
// own and the verifiers', with their statuses, are those api/openapi.yaml
// lists for the /attest/v1/ routes, neither more nor fewer.
func TestReasonStatusMatchesContract(t *testing.T) {
	emitted := maps.Clone(reasonStatus)
	delete(emitted, reasonNotFound) // no route: the contract's AttestNotFound, checked by TestRequestShape
	for _, reason := range []string{appattest.ReasonMalformed, appattest.ReasonTooLarge, appattest.ReasonWrongFormat,
		appattest.ReasonBadChain, appattest.ReasonWrongNonce, appattest.ReasonWrongKeyID, appattest.ReasonWrongRPID,
		appattest.ReasonBadCounter, appattest.ReasonWrongEnv, appattest.ReasonBadSignature, appattest.ReasonCounterReplay,
		appattest.ReasonUnsupportedKey,
		playintegrity.ReasonMalformed, playintegrity.ReasonOtherProject, playintegrity.ReasonWrongPackage,
		playintegrity.ReasonWrongNonce, playintegrity.ReasonStale, playintegrity.ReasonNotRecognized,
		playintegrity.ReasonWrongCert, playintegrity.ReasonDeviceVerdict,
		appcheck.ReasonMalformed, appcheck.ReasonWrongIssuer, appcheck.ReasonWrongProject, appcheck.ReasonExpired,
		appcheck.ReasonWrongApp, appcheck.ReasonBadSignature} {
		emitted[reason] = http.StatusUnauthorized // verifierFailure: the app's refusal
	}
	for _, reason := range []string{playintegrity.ReasonUnavailable, appcheck.ReasonUnavailable} {
		emitted[reason] = http.StatusServiceUnavailable // verifierFailure: the platform could not be asked
	}
	emitted["not_configured"] = http.StatusServiceUnavailable // internal/setup: ingest's secrets have no value yet
	emitted["request_timeout"] = http.StatusRequestTimeout    // internal/httpserver
	apicontract.CheckCodes(t, emitted, exchangeCodes(t))
}

// exchangeCodes are the contract's codes of every exchange route.
func exchangeCodes(t *testing.T) map[string][]int {
	contract := map[string][]int{}
	for _, route := range []string{"challenge", "apple/attest", "apple/assert", "android", "firebase"} {
		for code, statuses := range apicontract.Codes(t, http.MethodPost, "/attest/v1/"+route, "error") {
			for _, s := range statuses {
				if !slices.Contains(contract[code], s) {
					contract[code] = append(contract[code], s)
				}
			}
		}
	}
	return contract
}
