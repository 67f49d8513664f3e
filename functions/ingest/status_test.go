package ingest

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/readme"
	"eventrelay.dev/eventrelay/shared/auth"
)

// TestErrorStatusMatchesDocs: docs/sending-events.md's Answers table and
// api/openapi.yaml say the same (and the contract is the code's,
// TestErrorStatusMatchesContract): every code of the contract is in a row
// of one of its statuses, but the authentication reasons (the
// Authentication section and docs/attestation.md) and not_configured
// (docs/deploy.md); and a code a row names is one of that row's status.
// The table's body cells hold JSON with "|" in it, so rows are read whole
// rather than cell by cell.
func TestErrorStatusMatchesDocs(t *testing.T) {
	const doc = "docs/sending-events.md"
	answers := readme.Section(t, doc, "\nAnswers:\n", "\n## Authentication")
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
		t.Fatalf("%s: the Answers table has no rows", doc)
	}
	elsewhere := []string{auth.ReasonMissing, auth.ReasonExpiredKey, auth.ReasonBadSignature, auth.ReasonReplayed,
		auth.ReasonUnavailable, auth.ReasonNotConfigured, auth.ReasonAttestationRequired, auth.ReasonAttestationExpired,
		auth.ReasonAttestationInvalid}
	for code, statuses := range apicontract.Codes(t, http.MethodPost, "/", "error") {
		found := false
		for status, rs := range rows {
			for _, row := range rs {
				if !strings.Contains(row, strconv.Quote(code)) {
					continue
				}
				found = true
				if !slices.Contains(statuses, status) {
					t.Errorf("%s: the Answers table names %q in a %d row; %s lists it under %v", doc, code, status, apicontract.File, statuses)
				}
			}
		}
		if !found && !slices.Contains(elsewhere, code) {
			t.Errorf("%s: the Answers table has no row naming %q (%v in %s)", doc, code, statuses, apicontract.File)
		}
	}
}

// TestErrorStatusMatchesContract: the codes ingest refuses a request with
// as a whole, with their statuses, are those api/openapi.yaml lists for
// POST /, neither more nor fewer.
func TestErrorStatusMatchesContract(t *testing.T) {
	emitted := maps.Clone(errorStatus)
	for _, reason := range []string{auth.ReasonMissing, auth.ReasonInvalidKey, auth.ReasonExpiredKey,
		auth.ReasonBadSignature, auth.ReasonStale, auth.ReasonReplayed, auth.ReasonUnavailable, auth.ReasonNotConfigured,
		auth.ReasonAttestationRequired, auth.ReasonAttestationExpired, auth.ReasonAttestationInvalid} {
		emitted[reason] = (&auth.Error{Reason: reason}).Status()
	}
	emitted["request_timeout"] = http.StatusRequestTimeout // internal/httpserver, in front of every function
	apicontract.CheckCodes(t, emitted, apicontract.Codes(t, http.MethodPost, "/", "error"))
}
