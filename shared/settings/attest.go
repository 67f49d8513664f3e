package settings

import "time"

// App attestation: the exchange on ingest's URL and the credentials it
// issues (docs/attestation.md).

// Behind a Lambda function URL the adapter gives the caller's address as
// the connection's: no header to read.
const lambdaAddress = "the Lambda adapter gives the caller's address as the connection's"

var AttestSources = declare(&String{Meta: Meta{Name: "ATTEST_SOURCES",
	Description: "per ingest source: the attestation policy and the apps that may attest for it; empty: attestation off",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_sources"), AWS: Var("attestation_sources")},
	Format: "JSON object"})

var AttestCredentialKeysSecret = declare(&String{Meta: Meta{Name: "ATTEST_CREDENTIAL_KEYS_SECRET",
	Description: "secret with the attestation credential signing keys",
	Functions:   []Function{Ingest}, Secret: NamesSecret, Required: "when ATTEST_SOURCES is set",
	GCP: DerivedFrom("attestation_sources", "the attest-credential-keys secret when any source is set"),
	AWS: DerivedFrom("attestation_sources", "the attest-credential-keys secret when any source is set")}})

var AttestChallengeTTL = declare(&Duration{Meta: Meta{Name: "ATTEST_CHALLENGE_TTL",
	Description: "how long a one-time challenge may wait for its attestation",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_challenge_ttl"), AWS: Var("attestation_challenge_ttl")},
	Default: 5 * time.Minute, Min: 30 * time.Second, Max: 30 * time.Minute})

var AttestCredentialTTL = declare(&Duration{Meta: Meta{Name: "ATTEST_CREDENTIAL_TTL",
	Description: "how long an ingest credential from the exchange lasts",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_credential_ttl"), AWS: Var("attestation_credential_ttl")},
	Default: 30 * time.Minute, Min: time.Minute, Max: time.Hour})

var AttestKeyTTL = declare(&Duration{Meta: Meta{Name: "ATTEST_KEY_TTL",
	Description: "an App Attest key unused this long is forgotten",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_key_ttl"), AWS: Var("attestation_key_ttl")},
	Default: 180 * 24 * time.Hour, Min: 24 * time.Hour, Max: 400 * 24 * time.Hour})

var AttestClientRate = declare(&Int{Meta: Meta{Name: "ATTEST_CLIENT_RATE",
	Description: "exchange requests one client address (IPv4, or IPv6 /64) may send an instance a minute, every route together",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_client_rate"), AWS: Var("attestation_client_rate")},
	Default: 20, Min: 1, Max: 10000})

var AttestPlayDailyBudget = declare(&Int{Meta: Meta{Name: "ATTEST_PLAY_DAILY_BUDGET",
	Description: "Play Integrity decode calls in a UTC day across every instance (Google's default quota is 10,000); once spent, Android exchanges answer 503",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_play_daily_budget"), AWS: Var("attestation_play_daily_budget")},
	Default: 9000, Min: 1, Max: 10_000_000})

var IngestClientIPHeader = declare(&String{Meta: Meta{Name: "INGEST_CLIENT_IP_HEADER",
	Description: "the header carrying the caller's address for the exchange's per-address budget (e.g. X-Forwarded-For); empty: the connection's",
	Functions:   []Function{Ingest},
	GCP:         From("X-Forwarded-For when attestation is on (Cloud Run's front end appends the caller)"),
	AWS:         Unused(lambdaAddress)}})

var IngestTrustedProxies = declare(&Int{Meta: Meta{Name: "INGEST_TRUSTED_PROXIES",
	Description: "proxies of ours that append to that header: the client is that many entries from the right",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_trusted_proxies"), AWS: Unused(lambdaAddress)},
	Default: 1, Min: 1, Max: 10})

var AttestPlayMaxAge = declare(&Duration{Meta: Meta{Name: "ATTEST_PLAY_MAX_AGE",
	Description: "how old a Play Integrity verdict may be",
	Functions:   []Function{Ingest},
	GCP:         Var("attestation_play_max_age"), AWS: Var("attestation_play_max_age")},
	Default: 5 * time.Minute, Min: 30 * time.Second, Max: time.Hour})

var AttestAppleRootPEM = declare(&String{Meta: Meta{Name: "ATTEST_APPLE_ROOT_PEM",
	Description: "a root certificate to trust instead of Apple's App Attest root (the local stand-in's)",
	Functions:   []Function{Ingest},
	GCP:         OnlyLocal, AWS: OnlyLocal},
	Format: "PEM"})

var AttestFirebaseJWKSURL = declare(&String{Meta: Meta{Name: "ATTEST_FIREBASE_JWKS_URL",
	Description: "where to fetch App Check's key set instead of Firebase's (the local stand-in's)",
	Functions:   []Function{Ingest},
	GCP:         OnlyLocal, AWS: OnlyLocal},
	Format: "URL"})

var PlayIntegrityEndpoint = declare(&String{Meta: Meta{Name: "PLAYINTEGRITY_ENDPOINT",
	Description: "a Play Integrity decode server to call without credentials instead of Google's (the local stand-in)",
	Functions:   []Function{Ingest},
	GCP:         OnlyLocal, AWS: OnlyLocal},
	Format: "URL"})

var AttestTestEndpoints = declare(&OneOf{Meta: Meta{Name: "ATTEST_TEST_ENDPOINTS",
	Description: "allow ATTEST_APPLE_ROOT_PEM, PLAYINTEGRITY_ENDPOINT and ATTEST_FIREBASE_JWKS_URL outside the local stack (each start then logs a warning naming them); refuse: ingest does not start with them",
	Functions:   []Function{Ingest},
	GCP:         OnlyLocal, AWS: OnlyLocal},
	Default: "refuse", Allowed: []string{"refuse", "allow"}})

var PlayIntegrityCredentialsSecret = declare(&String{Meta: Meta{Name: "PLAYINTEGRITY_CREDENTIALS_SECRET",
	Description: "secret with a Google service account key (JSON) for Play Integrity, where the function has no Google identity",
	Functions:   []Function{Ingest}, Secret: NamesSecret, Required: "on AWS when a source offers Android",
	GCP: Unused("the function's own service account calls Play Integrity"),
	AWS: DerivedFrom("attestation_sources", "the play-integrity-credentials secret when a source offers Android")}})
