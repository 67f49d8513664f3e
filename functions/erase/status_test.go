package erase

import (
	"maps"
	"net/http"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/readme"
)

// TestErrorStatusMatchesDocs: docs/data-governance.md's table of refused
// erase requests and api/openapi.yaml say the same (and the contract is
// the code's, TestErrorStatusMatchesContract).
func TestErrorStatusMatchesDocs(t *testing.T) {
	const doc = "docs/data-governance.md"
	documented := readme.Statuses(t, readme.Section(t, doc, "\n## Erasure\n", "\nEach request writes one `erase` log line"), 0, 2)
	apicontract.CheckDocTable(t, doc, documented, apicontract.Codes(t, http.MethodPost, Path, "error"),
		"not_configured", "request_timeout") // docs/deploy.md and docs/sending-events.md
}

// TestErrorStatusMatchesContract: the codes erase refuses a request with,
// with their statuses, are those api/openapi.yaml lists for POST /erase,
// neither more nor fewer.
func TestErrorStatusMatchesContract(t *testing.T) {
	emitted := maps.Clone(errorStatus)
	emitted["not_configured"] = http.StatusServiceUnavailable // internal/setup: ingest's secrets have no value yet
	emitted["request_timeout"] = http.StatusRequestTimeout    // internal/httpserver
	apicontract.CheckCodes(t, emitted, apicontract.Codes(t, http.MethodPost, Path, "error"))
}
