package devstack

import (
	"encoding/json"
	"fmt"

	"eventrelay.dev/eventrelay/internal/fakeattest"
	"eventrelay.dev/eventrelay/internal/setup"
)

// The local stack's attestation: a source whose app attests with the test
// App Attest root, the local Play Integrity decode server and a local App
// Check key set, all in
// internal/fakeattest, and `eventrelay attest` to mint attestations for it.
// None of these values exists outside this process.
const (
	// DevAttestSource is the local app's source; its policy is require, so
	// only a credential from the exchange gets its events in.
	DevAttestSource = "local-app"
	DevAppleAppID   = "LOCALTEAM1.dev.eventrelay.demo"
	DevAndroidPkg   = "dev.eventrelay.demo"
	// DevAndroidCert is the local app's signing certificate digest, as Play
	// reports it (base64url SHA-256).
	DevAndroidCert = "bG9jYWwtZGV2ZWxvcG1lbnQtY2VydGlmaWNhdGU"
	// The local Firebase project and app for App Check tokens.
	DevFirebaseNumber  = "123456789012"
	DevFirebaseProject = "eventrelay-local"
	DevFirebaseApp     = "1:123456789012:android:0e1e2e3e4e5e6e7e"
	// DevPlayKey keys the local decode server's tokens, so `eventrelay
	// attest` in another process can mint tokens it decodes.
	DevPlayKey       = "local-play-integrity-stand-in-key"
	SecretAttestKeys = "projects/" + Project + "/secrets/attest-credential-keys"
	devAttestKeys    = `{"credential_keys":[{"id":"local-1","secret":"local-development-credential-key-not-a-secret"}]}`
)

// AttestSources is ATTEST_SOURCES for the local stack: DevAttestSource,
// plus each source in extra with the given policy and the same app
// identities (tests put DevSource under monitor or require this way).
func AttestSources(extra map[string]string) string {
	src := func(policy string) setup.AttestSource {
		return setup.AttestSource{Policy: policy,
			Apple:    &setup.AttestApple{AppIDs: []string{DevAppleAppID}, Environment: "production"},
			Android:  &setup.AttestAndroid{PackageNames: []string{DevAndroidPkg}, CertificateDigests: []string{DevAndroidCert}},
			Firebase: &setup.AttestFirebase{ProjectNumber: DevFirebaseNumber, AppIDs: []string{DevFirebaseApp}}}
	}
	all := map[string]setup.AttestSource{DevAttestSource: src("require")}
	for name, policy := range extra {
		all[name] = src(policy)
	}
	b, _ := json.Marshal(all)
	return string(b)
}

// startAttestation serves the Play Integrity stand-in and adds the
// attestation settings to env (cfg.Env may still override them).
func (st *Stack) startAttestation(env map[string]string) error {
	st.Secrets.Set(SecretAttestKeys, devAttestKeys)
	st.SecretServer.Set(SecretAttestKeys, devAttestKeys)
	url, err := st.serve("", fakeattest.NewPlayWithKey(Project, []byte(DevPlayKey)))
	if err != nil {
		return fmt.Errorf("play integrity stand-in: %w", err)
	}
	ac, err := fakeattest.NewAppCheck()
	if err != nil {
		return err
	}
	jwks, err := st.serve("", ac)
	if err != nil {
		return fmt.Errorf("app check key set stand-in: %w", err)
	}
	env["ATTEST_FIREBASE_JWKS_URL"] = jwks
	env["ATTEST_SOURCES"] = AttestSources(nil)
	env["ATTEST_CREDENTIAL_KEYS_SECRET"] = SecretAttestKeys
	env["ATTEST_APPLE_ROOT_PEM"] = string(fakeattest.TestRootPEM())
	env["PLAYINTEGRITY_ENDPOINT"] = url + "/"
	// A local stack on dynalite or the Firestore emulator is still local:
	// the stand-ins are allowed there (and logged), as nowhere deployed.
	env["ATTEST_TEST_ENDPOINTS"] = "allow"
	return nil
}
