package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/api/option"

	"eventrelay.dev/eventrelay/functions/attest"
	"eventrelay.dev/eventrelay/shared/attest/appattest"
	"eventrelay.dev/eventrelay/shared/attest/appcheck"
	"eventrelay.dev/eventrelay/shared/attest/credential"
	"eventrelay.dev/eventrelay/shared/attest/playintegrity"
	"eventrelay.dev/eventrelay/shared/auth"
	"eventrelay.dev/eventrelay/shared/config"
	"eventrelay.dev/eventrelay/shared/ledger"
	"eventrelay.dev/eventrelay/shared/secrets"
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

// attestation is ingest's attestation wiring: the credential check for the
// authenticator and the exchange mounted under /attest/. The zero value
// (no ATTEST_SOURCES) leaves ingest as it was.
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

// newAttestation reads the ATTEST_* settings. The state (challenges, App
// Attest keys) must be shared by every instance, so it lives in the ledger
// backend; the memory ledger (local stack) gets memory state.
func newAttestation(ctx context.Context, env *config.Env, src secrets.Source, store ledger.Store, log *slog.Logger) (*attestation, error) {
	raw := env.String("ATTEST_SOURCES", "")
	if raw == "" {
		return &attestation{}, nil
	}
	var sources map[string]AttestSource
	if err := json.Unmarshal([]byte(raw), &sources); err != nil {
		return nil, fmt.Errorf("config: ATTEST_SOURCES: not a JSON object of sources: %v", err)
	}
	keysSecret := env.Required("ATTEST_CREDENTIAL_KEYS_SECRET", "name of the secret holding the attestation credential signing keys")
	cfg := attest.Config{
		Sources:       map[string]attest.Source{},
		ChallengeTTL:  env.Duration("ATTEST_CHALLENGE_TTL", 5*time.Minute, 30*time.Second, 30*time.Minute),
		CredentialTTL: env.Duration("ATTEST_CREDENTIAL_TTL", 30*time.Minute, time.Minute, time.Hour),
		KeyTTL:        env.Duration("ATTEST_KEY_TTL", 180*24*time.Hour, 24*time.Hour, 400*24*time.Hour),
		RetryAfter:    env.Duration("INGEST_RETRY_AFTER", 5*time.Second, time.Second, time.Hour),
		ChallengeRate: float64(env.Int("ATTEST_CHALLENGE_RATE", 50, 1, 100000)),
	}
	playMaxAge := env.Duration("ATTEST_PLAY_MAX_AGE", 5*time.Minute, 30*time.Second, time.Hour)
	rootPEM := env.String("ATTEST_APPLE_ROOT_PEM", "")
	playEndpoint := env.String("PLAYINTEGRITY_ENDPOINT", "")
	playCredsSecret := env.String("PLAYINTEGRITY_CREDENTIALS_SECRET", "")
	jwksURL := env.String("ATTEST_FIREBASE_JWKS_URL", "")
	if err := env.Err(); err != nil {
		return nil, err
	}
	policies := map[string]auth.Policy{}
	android := false
	for name, s := range sources {
		p, err := auth.ParsePolicy(s.Policy)
		if err != nil {
			return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: %v", name, err)
		}
		policies[name] = p
		var out attest.Source
		if a := s.Apple; a != nil {
			env := appattest.Environment(a.Environment)
			switch {
			case len(a.AppIDs) == 0:
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: apple.app_ids is empty", name)
			case env == "":
				env = appattest.Production
			case env != appattest.Production && env != appattest.Development:
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: apple.environment %q is not production or development", name, env)
			}
			out.Apple = &attest.Apple{AppIDs: a.AppIDs, Env: env}
		}
		if a := s.Android; a != nil {
			pol := playintegrity.Policy{PackageNames: a.PackageNames, CertDigests: a.CertificateDigests,
				DeviceVerdict: a.DeviceVerdict, MaxAge: playMaxAge}
			if err := pol.Check(); err != nil {
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: android: %v", name, err)
			}
			out.Android, android = &pol, true
		}
		if f := s.Firebase; f != nil {
			if f.ProjectNumber == "" || len(f.AppIDs) == 0 {
				return nil, fmt.Errorf("config: ATTEST_SOURCES: source %s: firebase needs project_number and app_ids", name)
			}
			out.Firebase = &appcheck.Policy{ProjectNumber: f.ProjectNumber, AppIDs: f.AppIDs}
		}
		if out.Apple != nil || out.Android != nil || out.Firebase != nil {
			cfg.Sources[name] = out
		}
	}
	keys := credential.NewKeys(src, keysSecret, nil)
	if err := keys.Check(ctx); err != nil {
		return nil, fmt.Errorf("config: ATTEST_CREDENTIAL_KEYS_SECRET: %v", err)
	}
	a := &attestation{auth: &auth.Attestation{Keys: keys, Policies: policies, Logger: log}}
	if len(cfg.Sources) == 0 {
		return a, nil // policies only: credentials come from another deployment's exchange
	}
	var state ledger.AttestStore
	switch s := store.(type) {
	case *ledger.Memory:
		state = ledger.NewAttestMemory(nil)
	case ledger.AttestStore:
		state = s
	default:
		return nil, fmt.Errorf("config: ATTEST_SOURCES: the exchange keeps challenges and App Attest keys in the ledger: set LEDGER_BACKEND to firestore or dynamodb")
	}
	apple := &appattest.Verifier{}
	if rootPEM != "" {
		pool, err := appattest.PoolFromPEM([]byte(rootPEM))
		if err != nil {
			return nil, fmt.Errorf("config: ATTEST_APPLE_ROOT_PEM: %v", err)
		}
		apple.Roots = pool
	}
	var play attest.PlayVerifier
	if android {
		v, err := playVerifier(ctx, src, playEndpoint, playCredsSecret)
		if err != nil {
			return nil, err
		}
		play = v
	}
	ex, err := attest.New(cfg, attest.Deps{State: state, Keys: keys, Apple: apple, Play: play,
		AppCheck: &appcheck.Verifier{URL: jwksURL}, Logger: log})
	if err != nil {
		return nil, err
	}
	a.exchange = ex
	return a, nil
}

// playVerifier is the Play Integrity client: with the function's own
// service account on Google Cloud, a service account key from a secret on
// AWS, or a local decode server (PLAYINTEGRITY_ENDPOINT, no credentials).
func playVerifier(ctx context.Context, src secrets.Source, endpoint, credsSecret string) (*playintegrity.Verifier, error) {
	var opts []option.ClientOption
	switch {
	case endpoint != "":
		opts = append(opts, option.WithEndpoint(endpoint), option.WithoutAuthentication())
	case credsSecret != "":
		creds, err := src.Get(ctx, credsSecret)
		if err != nil {
			return nil, fmt.Errorf("config: PLAYINTEGRITY_CREDENTIALS_SECRET: cannot read %s: %w", credsSecret, err)
		}
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, creds))
	}
	v, err := playintegrity.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("config: Play Integrity: %w", err)
	}
	return v, nil
}
