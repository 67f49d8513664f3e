package settings

import "time"

// ingest's own settings: limits, timing, authentication.

var IngestMaxEventBytes = declare(&Int{Meta: Meta{Name: "INGEST_MAX_EVENT_BYTES",
	Description: "the largest event, as JSON",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_max_event_bytes"), AWS: Var("ingest_max_event_bytes")},
	Default: 32 << 10, Min: 256, Max: 1 << 20})

var IngestMaxBodyBytes = declare(&Int{Meta: Meta{Name: "INGEST_MAX_BODY_BYTES",
	Description: "the largest request body, after gzip expansion",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_max_body_bytes"), AWS: Var("ingest_max_body_bytes")},
	Default: 500 << 10, Min: 1 << 10, Max: 10 << 20})

var IngestMaxEvents = declare(&Int{Meta: Meta{Name: "INGEST_MAX_EVENTS",
	Description: "the most events in one request",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_max_events"), AWS: Var("ingest_max_events")},
	Default: 1000, Min: 1, Max: 10000})

var IngestFutureSkew = declare(&Duration{Meta: Meta{Name: "INGEST_FUTURE_SKEW",
	Description: "how far ahead of ours a client's clock may run",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_future_skew"), AWS: Var("ingest_future_skew")},
	Default: 10 * time.Second, Min: 0, Max: time.Hour})

var IngestMaxAge = declare(&Duration{Meta: Meta{Name: "INGEST_MAX_AGE",
	Description: "refuse events older than this; 0 accepts any age",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_max_age"), AWS: Var("ingest_max_age")},
	Default: 0, Min: 0, Max: 365 * 24 * time.Hour})

var IngestPublishTimeout = declare(&Duration{Meta: Meta{Name: "INGEST_PUBLISH_TIMEOUT",
	Description: "how long ingest waits for the queue's acknowledgement before answering 503",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_publish_timeout"), AWS: Var("ingest_publish_timeout")},
	Default: 10 * time.Second, Min: 100 * time.Millisecond, Max: 5 * time.Minute})

var IngestRetryAfter = declare(&Duration{Meta: Meta{Name: "INGEST_RETRY_AFTER",
	Description: "the Retry-After advised with a 503 (ingest, the attestation exchange and /erase)",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_retry_after"), AWS: Var("ingest_retry_after")},
	Default: 5 * time.Second, Min: time.Second, Max: time.Hour})

var IngestDedupeWindow = declare(&Duration{Meta: Meta{Name: "INGEST_DEDUPE_WINDOW",
	Description: "per-instance memory of queued ids (at most some 24 MB, about 270,000 ids; 0: off); the forwarder sends a repeat published later than this after the first",
	Functions:   []Function{Ingest, Forwarder},
	GCP:         Var("ingest_dedupe_window"), AWS: Var("ingest_dedupe_window")},
	Default: 10 * time.Minute, Min: 0, Max: 24 * time.Hour})

var IngestAPIKeysSecret = declare(&String{Meta: Meta{Name: "INGEST_API_KEYS_SECRET",
	Description: "secret with the API key hashes",
	Functions:   []Function{Ingest}, Secret: NamesSecret, Required: "this or INGEST_SIGNING_KEYS_SECRET",
	GCP: From("the ingest-api-keys secret"), AWS: From("the ingest-api-keys secret")}})

var IngestSigningKeysSecret = declare(&String{Meta: Meta{Name: "INGEST_SIGNING_KEYS_SECRET",
	Description: "secret with the request signing secrets",
	Functions:   []Function{Ingest}, Secret: NamesSecret, Required: "this or INGEST_API_KEYS_SECRET",
	GCP: From("the ingest-signing-keys secret"), AWS: From("the ingest-signing-keys secret")}})

var IngestSignatureTolerance = declare(&Duration{Meta: Meta{Name: "INGEST_SIGNATURE_TOLERANCE",
	Description: "the accepted age of a request signature",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_signature_tolerance"), AWS: Var("ingest_signature_tolerance")},
	Default: 300 * time.Second, Min: 10 * time.Second, Max: time.Hour})

var IngestCORSOrigins = declare(&List{Meta: Meta{Name: "INGEST_CORS_ORIGINS",
	Description: "web page origins (https://shop.example, as the browser sends Origin; no wildcard) that may send events and exchange App Check tokens from a browser; empty: no CORS",
	Functions:   []Function{Ingest},
	GCP:         Var("ingest_cors_origins"), AWS: Var("ingest_cors_origins")}})
