package settings

import "time"

// The forwarder's retries and breaker, and the MCM client the forwarder and
// backfill share.

// Pub/Sub spaces a push subscription's redeliveries by its own retry
// policy, whatever the forwarder answers.
const pubsubSpaces = "Pub/Sub's retry policy spaces redeliveries"

var ForwarderMaxAttempts = declare(&Int{Meta: Meta{Name: "FORWARDER_MAX_ATTEMPTS",
	Description: "a retryable failure on this attempt is dead-lettered, with its reason, instead",
	Functions:   []Function{Forwarder},
	GCP:         DerivedFrom("max_delivery_attempts", "one less, so ours comes before Pub/Sub's"),
	AWS:         DerivedFrom("max_receive_count", "one less, so ours comes before SQS's")},
	Default: 8, Min: 1, Max: 100})

var ForwarderFirstBackoff = declare(&Duration{Meta: Meta{Name: "FORWARDER_FIRST_BACKOFF",
	Description: "the wait after a first retryable failure (Moloco asks for at least 5 s); it doubles per attempt",
	Functions:   []Function{Forwarder},
	GCP:         Unused(pubsubSpaces), AWS: Var("forwarder_first_backoff")},
	Default: 5 * time.Second, Min: time.Millisecond, Max: time.Hour})

var ForwarderMaxBackoff = declare(&Duration{Meta: Meta{Name: "FORWARDER_MAX_BACKOFF",
	Description: "the longest wait between attempts; at least FORWARDER_FIRST_BACKOFF",
	Functions:   []Function{Forwarder},
	GCP:         Unused(pubsubSpaces), AWS: Var("forwarder_max_backoff")},
	Default: 10 * time.Minute, Min: time.Millisecond, Max: 12 * time.Hour})

var ForwarderBreakerThreshold = declare(&Int{Meta: Meta{Name: "FORWARDER_BREAKER_THRESHOLD",
	Description: "consecutive retryable failures after which an instance stops calling the platform for a while",
	Functions:   []Function{Forwarder},
	GCP:         Var("forwarder_breaker_threshold"), AWS: Var("forwarder_breaker_threshold")},
	Default: 20, Min: 1, Max: 10000})

var ForwarderBreakerCooldown = declare(&Duration{Meta: Meta{Name: "FORWARDER_BREAKER_COOLDOWN",
	Description: "how long the open breaker holds deliveries back before one is tried again",
	Functions:   []Function{Forwarder},
	GCP:         Var("forwarder_breaker_cooldown"), AWS: Var("forwarder_breaker_cooldown")},
	Default: 30 * time.Second, Min: time.Second, Max: time.Hour})

var ForwarderDedupeWindow = declare(&Duration{Meta: Meta{Name: "FORWARDER_DEDUPE_WINDOW",
	Description: "per-instance memory of delivered ids, so a redelivery does not call the platform twice (at most some 32 MB)",
	Functions:   []Function{Forwarder},
	GCP:         Var("forwarder_dedupe_window"), AWS: Var("forwarder_dedupe_window")},
	Default: time.Hour, Min: time.Minute, Max: 48 * time.Hour})

var ForwarderConcurrency = declare(&Int{Meta: Meta{Name: "FORWARDER_CONCURRENCY",
	Description: "sends in flight per SQS batch (an instance forwards about this many over the platform's latency per second)",
	Functions:   []Function{Forwarder},
	GCP:         Unused("one push request per message; the instance's concurrency is the module's forwarder.concurrency"),
	AWS:         DerivedFrom("batch_size", "the whole batch, at most 256")},
	Default: 128, Min: 1, Max: 256})

var MCMBaseURL = declare(&String{Meta: Meta{Name: "MCM_BASE_URL",
	Description: "the Events API base URL Moloco gave you, e.g. https://<name>-evt.mcm-api.moloco.com",
	Functions:   []Function{Forwarder, Backfill}, Required: "always",
	GCP: Var("mcm_base_url"), AWS: Var("mcm_base_url")},
	Format: "https:// URL"})

var MCMPlatformID = declare(&String{Meta: Meta{Name: "MCM_PLATFORM_ID",
	Description: "your MCM platform id (test or production)",
	Functions:   []Function{Forwarder, Backfill}, Required: "always",
	GCP: Var("mcm_platform_id"), AWS: Var("mcm_platform_id")}})

var MCMAPIKeySecret = declare(&String{Meta: Meta{Name: "MCM_API_KEY_SECRET",
	Description: "name of the secret holding the platform API key",
	Functions:   []Function{Forwarder, Backfill}, Secret: NamesSecret, Required: "always",
	GCP: From("the mcm-api-key secret"), AWS: From("the mcm-api-key secret")}})

var MCMTimeout = declare(&Duration{Meta: Meta{Name: "MCM_TIMEOUT",
	Description: "how long one Events API call may wait for its answer",
	Functions:   []Function{Forwarder, Backfill},
	GCP:         Var("mcm_timeout"), AWS: Var("mcm_timeout")},
	Default: 10 * time.Second, Min: 100 * time.Millisecond, Max: time.Minute})
