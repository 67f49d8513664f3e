package tfcheck

import (
	"path/filepath"
	"testing"
)

// TestCORSAnsweredByIngestOnly: the function answers CORS (shared/cors,
// INGEST_CORS_ORIGINS), so no function URL of the AWS module has a cors
// block of its own: Lambda would then answer the preflights itself and set
// its own Access-Control headers on every answer, a second list of
// origins that GCP (Cloud Run has no such setting) and the local stack do
// not have.
func TestCORSAnsweredByIngestOnly(t *testing.T) {
	m := load(t, filepath.Join(tfRoot, "modules", "aws"))
	urls := m.resourcesOf("aws_lambda_function_url")
	if len(urls) == 0 {
		t.Fatal("the AWS module has no aws_lambda_function_url")
	}
	for _, key := range urls {
		if block(m.Resources[key], "cors") != nil {
			t.Errorf("%s has a cors block: CORS is ingest's (INGEST_CORS_ORIGINS), in one place", key)
		}
	}
}
