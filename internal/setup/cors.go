package setup

import (
	"strings"

	"eventrelay.dev/eventrelay/functions/attest"
	"eventrelay.dev/eventrelay/functions/erase"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/cors"
	"eventrelay.dev/eventrelay/shared/settings"
)

// readCORS reads INGEST_CORS_ORIGINS, recording a malformed origin as the
// setting's error.
func readCORS(env *settings.Env) cors.Origins {
	o, err := cors.ParseOrigins(settings.IngestCORSOrigins.Get(env))
	if err != nil {
		env.Fail(settings.IngestCORSOrigins, "%v", err)
	}
	return o
}

// The routes of ingest's URL a web page calls (docs/attestation.md, "From
// a web page"): events, with the credential the App Check exchange gave,
// gzipped or not; and the App Check exchange itself. Not /erase (an
// operator's), nor the challenge, App Attest and Play Integrity routes
// (apps, not pages), nor an API key or a signature: a page cannot keep
// either secret.
var (
	webEvents = &cors.Rule{Methods: []string{"POST"},
		Headers: []string{"Content-Type", "Content-Encoding", auth.HeaderAttestation}, Expose: []string{"Retry-After"}}
	webExchange = &cors.Rule{Methods: []string{"POST"}, Headers: []string{"Content-Type"}, Expose: []string{"Retry-After"}}
)

// webRule is the CORS rule of a path of ingest's URL (nil: none).
func webRule(path string) *cors.Rule {
	switch {
	case path == attest.PathPrefix+"v1/firebase":
		return webExchange
	case strings.HasPrefix(path, attest.PathPrefix) || path == erase.Path:
		return nil
	}
	return webEvents
}
