package ingest

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/readme"
	"eventrelay.dev/eventrelay/shared/auth"
)

// TestErrorStatusMatchesDocs: every code errorStatus answers a request
// refused as a whole with is in docs/sending-events.md's Answers table, in a row of
// its status. The table's body cells hold JSON with "|" in it, so rows are
// read whole rather than cell by cell.
func TestErrorStatusMatchesDocs(t *testing.T) {
	answers := readme.Section(t, "docs/sending-events.md", "\nAnswers:\n", "\n## Authentication")
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
		t.Fatal("docs/sending-events.md: the Answers table has no rows")
	}
	for code, status := range errorStatus {
		found := false
		for _, row := range rows[status] {
			found = found || strings.Contains(row, strconv.Quote(code))
		}
		if !found {
			t.Errorf("docs/sending-events.md: the Answers table has no %d row naming %q", status, code)
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
