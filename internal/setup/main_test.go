package setup

import (
	"os"
	"testing"

	"eventrelay.dev/eventrelay/internal/apicontract"
)

// TestMain: every request the handler tests make, and every answer, is
// checked against api/openapi.yaml (apicontract.Wrap).
func TestMain(m *testing.M) { os.Exit(apicontract.Main(m, 10)) }
