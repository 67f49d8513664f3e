package erase

import (
	"maps"
	"net/http"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
	"eventrelay.dev/eventrelay/internal/readme"
)

// TestErrorStatusMatchesDocs: docs/data-governance.md's table of refused erase
// requests and errorStatus say the same.
func TestErrorStatusMatchesDocs(t *testing.T) {
	documented := readme.Statuses(t, readme.Section(t, "docs/data-governance.md", "\n## Erasure\n", "\nEach request writes one `erase` log line"), 0, 2)
	for code, status := range documented {
		if want, ok := errorStatus[code]; !ok || status != want {
			t.Errorf("docs/data-governance.md says %s is %d; the code answers %d", code, status, want)
		}
	}
	for code, status := range errorStatus {
		if _, ok := documented[code]; !ok {
			t.Errorf("docs/data-governance.md: code %s (%d) is not in the Erasure table", code, status)
		}
	}
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
