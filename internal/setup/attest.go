package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"eventrelay.dev/eventrelay/functions/attest"
	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/appcheck"
	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/clientip"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/secrets"
	"eventrelay.dev/eventrelay/shared/settings"
)

// AttestSource is one source's entry in ATTEST_SOURCES (JSON, keyed by
// source), as Terraform's attestation_sources variable writes it.
type AttestSource struct {
	Policy   string          `json:"policy"` // off, monitor, require
	Apple    *AttestApple    `json:"apple,omitempty"`
	Android  *AttestAndroid  `json:"android,omitempty"`
	Firebase *AttestFirebase `json:"firebase,omitempty"`
}

// AttestFirebase is a source's Firebase App Check project and apps.
type AttestFirebase struct {
	ProjectNumber string   `json:"project_number"`
	AppIDs        []string `json:"app_ids"` // Firebase app ids, 1:<number>:<platform>:<hex>
}

// AttestApple is a source's iOS app.
type AttestApple struct {
	AppIDs      []string `json:"app_ids"`               // "<team id>.<bundle id>"
	Environment string   `json:"environment,omitempty"` // production (default) or development
}

// AttestAndroid is a source's Android app.
type AttestAndroid struct {
	PackageNames       []string `json:"package_names"`
	CertificateDigests []string `json:"certificate_digests"`      // base64url SHA-256, as Play reports them
	DeviceVerdict      string   `json:"device_verdict,omitempty"` // MEETS_DEVICE_INTEGRITY unless set
}

// attestSettings are the ATTEST_* settings, read and checked at start;
// build turns them into the wiring once the secrets have values. The zero
// value (no ATTEST_SOURCES) leaves ingest as it was.
type attestSettings struct {
	on              bool
	cfg             attest.Config
	policies        map[string]auth.Policy
	keysSecret      string
	android         bool
	state           ledger.AttestStore
	rootPEM         string
	playEndpoint    string
	playCredsSecret string
	jwksURL         string
	// testEndpoints names the test-only settings in use in a deployment
	// that allowed them (ATTEST_TEST_ENDPOINTS=allow): logged at build.
	testEndpoints []string
}

// testOnlySettings point the exchange at another Apple root, decode server
// or key set: for local runs and tests. Anyone who can set them can mint
// credentials (the test root's private key is in the repository), so a
// deployment refuses them unless ATTEST_TEST_ENDPOINTS=allow says
// otherwise, and then logs a warning at every start.
var testOnlySettings = []*settings.String{settings.AttestAppleRootPEM, settings.PlayIntegrityEndpoint, settings.AttestFirebaseJWKSURL}

// readAttestation reads the ATTEST_* settings. The state (challenges, App
// Attest keys) must be shared by every instance, so it lives in the ledger
// backend; the memory ledger (local stack) gets memory state.
func readAttestation(env *settings.Env, store ledger.Store) (*attestSettings, error) {
	raw := settings.AttestSources.Get(env)
	if raw == "" {
		return &attestSettings{}, nil
	}
	var sources map[string]AttestSource
	if err := json.Unmarshal([]byte(raw), &sources); err != nil {
		return nil, fmt.Errorf("config: ATTEST_SOURCES: not a JSON object of sources: %v", err)
	}
	a := &attestSettings{on: true, policies: map[string]auth.Policy{},
		keysSecret: settings.AttestCredentialKeysSecret.Require(env),
		cfg: attest.Config{
			Sources:         map[string]attest.Source{},
			ChallengeTTL:    settings.AttestChallengeTTL.Get(env),
			CredentialTTL:   settings.AttestCredentialTTL.Get(env),
			KeyTTL:          settings.AttestKeyTTL.Get(env),
			RetryAfter:      settings.IngestRetryAfter.Get(env),
			ClientRate:      float64(settings.AttestClientRate.Get(env)),
			ClientIP:        ingestClientIP(env),
			PlayDailyBudget: int64(settings.AttestPlayDailyBudget.Get(env)),
		},
		rootPEM:         settings.AttestAppleRootPEM.Get(env),
		playEndpoint:    settings.PlayIntegrityEndpoint.Get(env),
		playCredsSecret: settings.PlayIntegrityCredentialsSecret.Get(env),
		jwksURL:         settings.AttestFirebaseJWKSURL.Get(env),
	}
	playMaxAge := settings.AttestPlayMaxAge.Get(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	for name, s := range sources {
		p, err := auth.ParsePolicy(s.Policy)
		if err != nil {
			return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: %v", name, err)
		}
		a.policies[name] = p
		var out attest.Source
		if ap := s.Apple; ap != nil {
			env := appattest.Environment(ap.Environment)
			switch {
			case len(ap.AppIDs) == 0:
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: apple.app_ids is empty", name)
			case env == "":
				env = appattest.Production
			case env != appattest.Production && env != appattest.Development:
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: apple.environment %q is not production or development", name, env)
			}
			out.Apple = &attest.Apple{AppIDs: ap.AppIDs, Env: env}
		}
		if an := s.Android; an != nil {
			pol := playintegrity.Policy{PackageNames: an.PackageNames, CertDigests: an.CertificateDigests,
				DeviceVerdict: an.DeviceVerdict, MaxAge: playMaxAge}
			if err := pol.Check(); err != nil {
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: android: %v", name, err)
			}
			out.Android, a.android = &pol, true
		}
		if f := s.Firebase; f != nil {
			if f.ProjectNumber == "" || len(f.AppIDs) == 0 {
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: firebase needs project_number and app_ids", name)
			}
			out.Firebase = &appcheck.Policy{ProjectNumber: f.ProjectNumber, AppIDs: f.AppIDs}
		}
		if out.Apple != nil || out.Android != nil || out.Firebase != nil {
			a.cfg.Sources[name] = out
		}
	}
	if len(a.cfg.Sources) == 0 {
		return a, nil // policies only: credentials come from another deployment's exchange
	}
	_, local := store.(*ledger.Memory) // the local stack: the only place the memory ledger runs
	allow := settings.AttestTestEndpoints.Get(env) == "allow"
	for _, s := range testOnlySettings {
		switch v := s.Get(env); {
		case v == "" || local:
		case allow:
			a.testEndpoints = append(a.testEndpoints, s.Name)
		default:
			env.Fail(s, "is for local runs and tests only (another Apple root, decode server or key set lets its holder mint credentials); "+
				"refused with the %s ledger; set ATTEST_TEST_ENDPOINTS=allow to use it anyway", settings.LedgerBackend.Get(env))
		}
	}
	if err := env.Err(); err != nil {
		return nil, err
	}
	switch s := store.(type) {
	case *ledger.Memory:
		a.state = ledger.NewAttestMemory(nil)
	case ledger.AttestStore:
		a.state = s
	default:
		return nil, fmt.Errorf("config: ATTEST_SOURCES: the exchange keeps challenges and App Attest keys in the ledger: set LEDGER_BACKEND to firestore or dynamodb")
	}
	if a.rootPEM != "" {
		if _, err := appattest.PoolFromPEM([]byte(a.rootPEM)); err != nil {
			return nil, fmt.Errorf("config: ATTEST_APPLE_ROOT_PEM: %v", err)
		}
	}
	return a, nil
}

// ingestClientIP is how ingest's URL (the exchange, /erase) tells a
// caller's address: behind Cloud Run's front end X-Forwarded-For's last
// entry (INGEST_CLIENT_IP_HEADER, set by the GCP module), behind a Lambda
// function URL the connection's address the adapter fills in.
func ingestClientIP(env *settings.Env) clientip.Resolver {
	return clientip.Resolver{Header: settings.IngestClientIPHeader.Get(env),
		TrustedProxies: settings.IngestTrustedProxies.Get(env)}
}

// secrets are the secrets the wiring reads, which must have values before
// ingest serves (Terraform creates them empty).
func (a *attestSettings) secrets() []string {
	if !a.on {
		return nil
	}
	out := []string{a.keysSecret}
	if a.android && a.playEndpoint == "" {
		out = append(out, named(a.playCredsSecret)...)
	}
	return out
}

// attestation is ingest's attestation wiring: the credential check for the
// authenticator and the exchange mounted under /attest/.
type attestation struct {
	auth     *auth.Attestation
	exchange http.Handler
}

// Auth is the authenticator's attestation settings (nil: off).
func (a *attestation) Auth() *auth.Attestation { return a.auth }

// Mount serves the exchange beside ingest.
func (a *attestation) Mount(ingest http.Handler) http.Handler {
	if a.exchange == nil {
		return ingest
	}
	return attest.Mount(a.exchange, ingest)
}

// build makes the wiring, reading the credential keys (and, for Android on
// AWS, the Play Integrity credentials).
func (a *attestSettings) build(ctx context.Context, src secrets.Source, log *slog.Logger) (*attestation, error) {
	if !a.on {
		return &attestation{}, nil
	}
	for _, name := range a.testEndpoints {
		log.LogAttrs(ctx, slog.LevelWarn, "test-only attestation setting in use", slog.String("outcome", "test_endpoint_allowed"),
			slog.String("setting", name), slog.String("allowed_by", "ATTEST_TEST_ENDPOINTS=allow"))
	}
	keys := credential.NewKeys(src, a.keysSecret, nil)
	if err := keys.Check(ctx); err != nil {
		return nil, fmt.Errorf("config: ATTEST_CREDENTIAL_KEYS_SECRET: %v", err)
	}
	out := &attestation{auth: &auth.Attestation{Keys: keys, Policies: a.policies, Logger: log}}
	if len(a.cfg.Sources) == 0 {
		return out, nil
	}
	apple := &appattest.Verifier{}
	if a.rootPEM != "" {
		apple.Roots, _ = appattest.PoolFromPEM([]byte(a.rootPEM)) // checked at start
	}
	var play attest.PlayVerifier
	if a.android {
		v, err := playVerifier(ctx, src, a.playEndpoint, a.playCredsSecret)
		if err != nil {
			return nil, err
		}
		play = v
	}
	ex, err := attest.New(a.cfg, attest.Deps{State: a.state, Keys: keys, Apple: apple, Play: play,
		AppCheck: &appcheck.Verifier{URL: a.jwksURL}, Logger: log})
	if err != nil {
		return nil, err
	}
	out.exchange = ex
	return out, nil
}

// playVerifier is the Play Integrity client: with the function's own
// service account on Google Cloud, a service account key from a secret on
// AWS, or a local decode server (PLAYINTEGRITY_ENDPOINT, no credentials).
func playVerifier(ctx context.Context, src secrets.Source, endpoint, credsSecret string) (*playintegrity.Verifier, error) {
	var cfg playintegrity.Config
	switch {
	case endpoint != "":
		cfg.Endpoint = endpoint
	case credsSecret != "":
		creds, err := src.Get(ctx, credsSecret)
		if err != nil {
			return nil, fmt.Errorf("config: PLAYINTEGRITY_CREDENTIALS_SECRET: cannot read %s: %w", credsSecret, err)
		}
		cfg.CredentialsJSON = []byte(creds)
	}
	v, err := playintegrity.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("config: Play Integrity: %w", err)
	}
	return v, nil
}
