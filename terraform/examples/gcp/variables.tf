# GENERATED from terraform/modules/gcp: every variable of the module, with
# its type, description and default, so that any of them set in
# terraform.tfvars takes effect (the module checks the values).
# Do not edit: change the module, then
#   go test ./internal/tfcheck -run TestExamplesPassEveryVariable -update

variable "project_id" {
  type        = string
  description = "The Google Cloud project to deploy into."
}

variable "region" {
  type        = string
  description = "Region of the functions, the source bucket and the scheduler job."
  default     = "us-central1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (functions, topics, secrets, service accounts)."
  default     = "eventrelay"
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes labels."
  default     = {}
}

variable "source_archive" {
  type        = string
  description = "Path of the source archive; null uses dist/gcp-source.zip of this checkout (make dist)."
  default     = null
}

variable "go_runtime" {
  type        = string
  description = "Cloud Functions Go runtime id; must be at least the go directive of go.mod."
  default     = "go126"
}

variable "build_service_account" {
  type        = string
  description = "Service account (full resource name projects/P/serviceAccounts/EMAIL) that builds the functions; null: the module creates one (<name_prefix>-build) with only what a build needs."
  default     = null
}

variable "mcm_base_url" {
  type        = string
  description = "The MCM Events API base URL Moloco gave you, e.g. https://<name>-evt.mcm-api.moloco.com."
}

variable "mcm_platform_id" {
  type        = string
  description = "Your MCM platform id (test or production)."
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of every function: debug, info, warn or error."
  default     = "info"
}

variable "ingest" {
  type = object({
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 20)
    concurrency     = optional(number, 200)
    memory          = optional(string, "256Mi")
    cpu             = optional(string, "1")
    timeout_seconds = optional(number, 60)
  })
  description = "Scaling of ingest: instances, requests per instance (concurrency), memory, CPU and request timeout."
  default     = {}
}

variable "forwarder" {
  type = object({
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 20)
    concurrency     = optional(number, 200)
    memory          = optional(string, "256Mi")
    cpu             = optional(string, "1")
    timeout_seconds = optional(number, 60)
  })
  description = "Scaling of the forwarder (one push request per message, so concurrency is sends in flight per instance: about concurrency / platform latency events per second). Its timeout must not exceed ack_deadline_seconds."
  default     = {}
}

variable "verify" {
  type = object({
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 200)
    memory          = optional(string, "256Mi")
    cpu             = optional(string, "1")
    timeout_seconds = optional(number, 30)
  })
  description = "Scaling of verify (DFINERY callbacks)."
  default     = {}
}

variable "backfill" {
  type = object({
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 1)
    concurrency     = optional(number, 1)
    memory          = optional(string, "256Mi")
    cpu             = optional(string, "1")
    timeout_seconds = optional(number, 540)
  })
  description = "Scaling of backfill. One instance, one run at a time by default, so two scheduler runs never drain the dead-letter subscription at once."
  default     = {}
}

variable "public_ingest" {
  type        = bool
  description = "Let anyone reach ingest (allUsers run.invoker on ingest only). Ingest authenticates every request itself with API keys or signatures."
  default     = true
}

variable "public_verify" {
  type        = bool
  description = "Let anyone reach verify (allUsers run.invoker on verify only). DFINERY cannot send a Google identity token; verify checks the ABX-HASH signature itself."
  default     = true
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of one message before Pub/Sub moves it to the dead-letter topic. The forwarder dead-letters it itself, with a reason, one attempt earlier."
  default     = 10
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Ack deadline of the events subscription: how long Pub/Sub waits for the forwarder's answer to a push."
  default     = 60
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the events topic and subscription keep messages, acknowledged ones included, so backfill can seek back and replay."
  default     = 604800
}

variable "backfill_schedule" {
  type        = string
  description = "Cron schedule (in backfill_time_zone) of the backfill run."
  default     = "*/15 * * * *"
}

variable "backfill_time_zone" {
  type        = string
  description = "Time zone of backfill_schedule."
  default     = "Etc/UTC"
}

variable "backfill_time_budget" {
  type        = string
  description = "BACKFILL_TIME_BUDGET: how long one backfill run may resend; with MCM_TIMEOUT (10 s) and 10 s to spare it must fit in the backfill timeout."
  default     = "240s"
}

variable "backfill_rate" {
  type        = number
  description = "BACKFILL_RATE: events per second backfill sends at most, to stay under the platform's throttling."
  default     = 50
}

variable "create_firestore_database" {
  type        = bool
  description = "Create the Firestore database of the ledger. false: use an existing database named firestore_database."
  default     = true
}

variable "firestore_database" {
  type        = string
  description = "Firestore database id of the ledger; null: <name_prefix>-ledger, so deployments in one project do not share it. A deployment whose name_prefix is not eventrelay and that was made before this default keeps its database with eventrelay-ledger (docs/deploy-gcp.md, Teardown)."
  default     = null
}

variable "firestore_location" {
  type        = string
  description = "Firestore location (e.g. nam5, eur3 or a region); null uses region."
  default     = null
}

variable "firestore_delete_protection" {
  type        = bool
  description = "Refuse to delete the ledger database (turn off before terraform destroy)."
  default     = true
}

variable "ledger_collection" {
  type        = string
  description = "LEDGER_FIRESTORE_COLLECTION: the ledger's collection."
  default     = "eventrelay-ledger"
}

variable "ledger_event_types" {
  type        = list(string)
  description = "LEDGER_EVENT_TYPES: event types ingest records in the ledger for verify."
  default     = ["PURCHASE"]
}

variable "ledger_ttl" {
  type        = string
  description = "LEDGER_TTL: how long a ledger entry lives (Firestore deletes it after expires_at)."
  default     = "720h"
}

variable "verify_event_map" {
  type        = string
  description = "VERIFY_EVENT_MAP: dfinery_event=EVENT_TYPE pairs, comma separated, added to DFINERY's standard names (abx:purchase, df_purchase, ...; see docs/verify.md); every type must be in ledger_event_types."
  default     = ""
}

variable "dfinery_key_encoding" {
  type        = string
  description = "DFINERY_KEY_ENCODING: text, or uuid-bytes when DFINERY signs with the key's 16 bytes."
  default     = "text"
}

variable "extra_environment" {
  type        = map(map(string))
  description = "More environment variables per function (keys ingest, forwarder, verify, backfill), e.g. PII_HASH_FIELDS or INGEST_MAX_EVENTS; they win over the module's."
  default     = {}
}

variable "pii_hash_fields" {
  type        = list(string)
  description = "PII_HASH_FIELDS of ingest and verify (they must agree); null keeps the code's default list, [\"none\"] turns hashing off."
  default     = null
}

variable "pii_ip_policy" {
  type        = string
  description = "PII_IP_POLICY of ingest and verify: keep, truncate or drop."
  default     = "truncate"
}

variable "enable_apis" {
  type        = bool
  description = "Enable the Google APIs the module uses (left enabled on destroy)."
  default     = true
}

variable "archive_enabled" {
  type        = bool
  description = "Archive every accepted event in a bucket the module creates, through a Pub/Sub Cloud Storage subscription (docs/backfill.md, Replay from the archive). Off by default: a second copy of every pseudonymised event for archive_retention_days (docs/data-governance.md, The archive)."
  default     = false
}

variable "archive_retention_days" {
  type        = number
  description = "Days the archive keeps a file before the bucket's lifecycle deletes it; keep it below ERASE_RETENTION so an erasure's suppression outlives every archived event it covers."
  default     = 90
}

variable "exclude_successful_request_logs" {
  type        = bool
  description = "Exclude from Cloud Logging the request log entries Cloud Run writes for the module's functions' successful requests (status below 400), the largest log term of docs/cost.md. What is lost: the per-request latency and status entries of successful requests. The functions' own lines and every 4xx/5xx request log entry remain, and Cloud Run's request metrics (request_count, request_latencies) are not log-based and stay."
  default     = true
}

variable "attestation_sources" {
  type = map(object({
    policy = string
    apple = optional(object({
      app_ids     = list(string)
      environment = optional(string, "production")
    }))
    android = optional(object({
      package_names       = list(string)
      certificate_digests = list(string)
      device_verdict      = optional(string, "MEETS_DEVICE_INTEGRITY")
    }))
    firebase = optional(object({
      project_number = string
      app_ids        = list(string)
    }))
  }))
  description = "Per ingest source: attestation policy (off, monitor, require) and the apps that may attest for it: Apple app ids (<team id>.<bundle id>, App Attest environment production or development) and Android package names, signing certificate SHA-256 digests (base64url, as the Play Console shows them) and the device verdict required; Firebase App Check project number and app ids. Empty: attestation off."
  default     = {}
}

variable "attestation_credential_ttl" {
  type        = string
  description = "ATTEST_CREDENTIAL_TTL: how long an ingest credential from the exchange lasts (1m to 1h), e.g. 30m."
  default     = "30m"
}

variable "attestation_challenge_ttl" {
  type        = string
  description = "ATTEST_CHALLENGE_TTL: how long a one-time challenge may wait for its attestation (30s to 30m)."
  default     = "5m"
}

variable "attestation_play_daily_budget" {
  type        = number
  description = "ATTEST_PLAY_DAILY_BUDGET: Play Integrity decode calls the exchange makes in a UTC day, across every instance (Google's default quota is 10,000 a day per app). Past 80% an alert fires; once spent, Android exchanges answer 503 decode_budget_spent until 00:00 UTC."
  default     = 9000
}

variable "attestation_client_rate" {
  type        = number
  description = "ATTEST_CLIENT_RATE: exchange requests one client address (an IPv4 address, an IPv6 /64) may send an instance a minute, every route together; a genuine exchange is two requests every credential lifetime."
  default     = 20
}

variable "consent_default" {
  type        = string
  description = "CONSENT_DEFAULT: what an event without a consent field means, granted or denied."
  default     = "granted"
}

variable "consent_sources" {
  type        = map(string)
  description = "CONSENT_SOURCES: per ingest source, what an event without a consent field means (granted or denied); overrides consent_default."
  default     = {}
}

variable "erase_enabled" {
  type        = bool
  description = "Serve POST /erase on ingest, behind the keys in the erase-keys secret (created empty; add keys out of band)."
  default     = true
}

variable "erase_retention" {
  type        = string
  description = "ERASE_RETENTION: how long an erased person's suppression lasts (their events are refused and dropped meanwhile)."
  default     = "26280h"
}

variable "suppression_cache" {
  type        = string
  description = "SUPPRESSION_CACHE: how long an instance may keep a \"not erased\" answer; an erasure takes effect everywhere within it. 0s reads the ledger for every event."
  default     = "30s"
}

variable "catalog_enabled" {
  type        = bool
  description = "Enrich events at ingest from the item catalog, a Firestore collection in the ledger database that the operator keeps."
  default     = false
}

variable "catalog_collection" {
  type        = string
  description = "CATALOG_FIRESTORE_COLLECTION: the catalog collection; one document per item id with price, currency, item_group_id, seller_id."
  default     = "eventrelay-catalog"
}

variable "catalog_precedence" {
  type        = string
  description = "CATALOG_PRECEDENCE: client (the client's price, group and seller win; the catalog fills gaps) or catalog (the catalog's win)."
  default     = "client"
}

variable "catalog_cache" {
  type        = string
  description = "CATALOG_CACHE: how long an instance keeps a catalog answer (found or not)."
  default     = "5m"
}

variable "alerts_enabled" {
  type        = bool
  description = "Whether the alert policies notify. They are created either way; false leaves them disabled."
  default     = true
}

variable "notification_channels" {
  type        = list(string)
  description = "Cloud Monitoring notification channel ids (projects/<p>/notificationChannels/<id>) every alert notifies, besides the module's own Pub/Sub alerts topic."
  default     = []
}

variable "alert_thresholds" {
  type = object({
    deadletter_backlog_minutes  = optional(number, 60)
    deadletter_oldest_age_hours = optional(number, 24)
    events_backlog_age_minutes  = optional(number, 15)
    dead_letters_per_5m         = optional(number, 10)
    ingest_5xx_ratio            = optional(number, 0.05)
    auth_failures_per_5m        = optional(number, 100)
    platform_auth_failures_5m   = optional(number, 0)
    verify_failure_ratio        = optional(number, 0.5)
    backfill_run_failures       = optional(number, 0)
    function_errors_per_5m      = optional(number, 5)
    throttles_per_5m            = optional(number, 10)
  })
  description = <<-EOT
    Alert thresholds (docs/operations.md, Alerts). deadletter_backlog_minutes: how long dead letters may wait before the backlog alert;
    deadletter_oldest_age_hours: the oldest dead letter's age; events_backlog_age_minutes: the oldest undelivered event's age
    on the forwarder's subscription; dead_letters_per_5m: events the forwarder dead-letters in 5 minutes; ingest_5xx_ratio:
    share of ingest requests answered 5xx over 5 minutes; auth_failures_per_5m: ingest authentication failures in 5 minutes
    (a leaked or rotated key); platform_auth_failures_5m: events the platform refused for the API key in 5 minutes (0: any);
    verify_failure_ratio: share of DFINERY callbacks answered with a failure over 15 minutes; backfill_run_failures: failed
    backfill runs in an hour (0: any); function_errors_per_5m: ERROR lines per function in 5 minutes; throttles_per_5m:
    requests a function refused with 429 (no instance free) in 5 minutes.
  EOT
  default     = {}
}

variable "attestation_key_ttl" {
  type        = string
  description = "ATTEST_KEY_TTL: an App Attest key unused this long is forgotten."
  default     = "4320h"
}

variable "attestation_play_max_age" {
  type        = string
  description = "ATTEST_PLAY_MAX_AGE: how old a Play Integrity verdict may be."
  default     = "5m"
}

variable "backfill_archive_lateness" {
  type        = string
  description = "BACKFILL_ARCHIVE_LATENESS: how long after an event's own time ingest may still have queued it: an archive replay also reads the files written this long after the window's end."
  default     = "24h"
}

variable "backfill_batch" {
  type        = number
  description = "BACKFILL_BATCH: the most messages a run receives at once."
  default     = 100
}

variable "forwarder_breaker_cooldown" {
  type        = string
  description = "FORWARDER_BREAKER_COOLDOWN: how long the open breaker holds deliveries back before one is tried again."
  default     = "30s"
}

variable "forwarder_breaker_threshold" {
  type        = number
  description = "FORWARDER_BREAKER_THRESHOLD: consecutive retryable failures after which an instance stops calling the platform for a while."
  default     = 20
}

variable "forwarder_dedupe_window" {
  type        = string
  description = "FORWARDER_DEDUPE_WINDOW: per-instance memory of delivered ids, so a redelivery does not call the platform twice (at most some 32 MB)."
  default     = "1h"
}

variable "http_read_timeout" {
  type        = string
  description = "HTTP_READ_TIMEOUT: the whole request, body included; a body still arriving then is cut and answered 408."
  default     = "30s"
}

variable "ingest_cors_origins" {
  type        = list(string)
  description = "INGEST_CORS_ORIGINS: web page origins (https://shop.example, as the browser sends Origin; no wildcard) that may send events and exchange App Check tokens from a browser; empty: no CORS."
  default     = []
}

variable "ingest_dedupe_window" {
  type        = string
  description = "INGEST_DEDUPE_WINDOW: per-instance memory of queued ids (at most some 24 MB, about 270,000 ids; 0: off); the forwarder sends a repeat published later than this after the first."
  default     = "10m"
}

variable "ingest_future_skew" {
  type        = string
  description = "INGEST_FUTURE_SKEW: how far ahead of ours a client's clock may run."
  default     = "10s"
}

variable "ingest_max_age" {
  type        = string
  description = "INGEST_MAX_AGE: refuse events older than this; 0 accepts any age."
  default     = "0s"
}

variable "ingest_max_body_bytes" {
  type        = number
  description = "INGEST_MAX_BODY_BYTES: the largest request body, after gzip expansion."
  default     = 512000
}

variable "ingest_max_event_bytes" {
  type        = number
  description = "INGEST_MAX_EVENT_BYTES: the largest event, as JSON."
  default     = 32768
}

variable "ingest_max_events" {
  type        = number
  description = "INGEST_MAX_EVENTS: the most events in one request."
  default     = 1000
}

variable "ingest_publish_timeout" {
  type        = string
  description = "INGEST_PUBLISH_TIMEOUT: how long ingest waits for the queue's acknowledgement before answering 503."
  default     = "10s"
}

variable "ingest_retry_after" {
  type        = string
  description = "INGEST_RETRY_AFTER: the Retry-After advised with a 503 (ingest, the attestation exchange and /erase)."
  default     = "5s"
}

variable "ingest_signature_tolerance" {
  type        = string
  description = "INGEST_SIGNATURE_TOLERANCE: the accepted age of a request signature."
  default     = "5m"
}

variable "ingest_trusted_proxies" {
  type        = number
  description = "INGEST_TRUSTED_PROXIES: proxies of ours that append to that header: the client is that many entries from the right."
  default     = 1
}

variable "mcm_timeout" {
  type        = string
  description = "MCM_TIMEOUT: how long one Events API call may wait for its answer."
  default     = "10s"
}

variable "secrets_cache_ttl" {
  type        = string
  description = "SECRETS_CACHE_TTL: how long a secret value is reused before it is read again (a rotation is seen within it)."
  default     = "1m"
}

variable "verify_allowed_ips" {
  type        = list(string)
  description = "VERIFY_ALLOWED_IPS: CIDRs or addresses DFINERY calls from; empty: any."
  default     = []
}

variable "verify_client_ip_header" {
  type        = string
  description = "VERIFY_CLIENT_IP_HEADER: the header carrying the caller's address (e.g. X-Forwarded-For); empty: the connection's."
  default     = ""
}

variable "verify_failure_body" {
  type        = string
  description = "VERIFY_FAILURE_BODY: the body of a refusal; {reason} is replaced by the reason."
  default     = "{\"result\":\"failure\",\"reason\":\"{reason}\"}"
}

variable "verify_failure_status" {
  type        = number
  description = "VERIFY_FAILURE_STATUS: the HTTP status of a refusal."
  default     = 422
}

variable "verify_freshness" {
  type        = string
  description = "VERIFY_FRESHNESS: how old a callback's event may be; at most LEDGER_TTL."
  default     = "24h"
}

variable "verify_identity" {
  type        = string
  description = "VERIFY_IDENTITY: optional: confirm a callback naming a recorded order with its amount and currency even when no identifier matches (a spoof risk; only for a backend that sends ingest no id)."
  default     = "required"
}

variable "verify_ledger_deadline" {
  type        = string
  description = "VERIFY_LEDGER_DEADLINE: how long a callback may wait for the ledger before it is answered 503 unavailable (not stored); above VERIFY_LOOKUP_RETRY."
  default     = "2s"
}

variable "verify_lookup_retry" {
  type        = string
  description = "VERIFY_LOOKUP_RETRY: how long a miss is retried (a callback may beat ingest's ledger write)."
  default     = "300ms"
}

variable "verify_match_device_time" {
  type        = bool
  description = "VERIFY_MATCH_DEVICE_TIME: confirm a callback without an order or user id by device id and time alone (whoever knows a device id can then get events near its real ones confirmed)."
  default     = false
}

variable "verify_max_body_bytes" {
  type        = number
  description = "VERIFY_MAX_BODY_BYTES: the largest callback body."
  default     = 65536
}

variable "verify_order_id_key" {
  type        = string
  description = "VERIFY_ORDER_ID_KEY: the param_json key(s) of the order id (our event id), comma separated."
  default     = "abx:order_id"
}

variable "verify_sources" {
  type        = list(string)
  description = "VERIFY_SOURCES: the ingest sources whose events verify confirms; empty: all."
  default     = []
}

variable "verify_success_body" {
  type        = string
  description = "VERIFY_SUCCESS_BODY: the body of a confirmation."
  default     = "{\"result\":\"success\"}"
}

variable "verify_success_status" {
  type        = number
  description = "VERIFY_SUCCESS_STATUS: the HTTP status of a confirmation."
  default     = 200
}

variable "verify_time_tolerance" {
  type        = string
  description = "VERIFY_TIME_TOLERANCE: how far a callback's event time may be from the time ingest recorded."
  default     = "10m"
}

variable "verify_timezone" {
  type        = string
  description = "VERIFY_TIMEZONE: the zone of an event_datetime without an offset."
  default     = "UTC"
}

variable "verify_token_header" {
  type        = string
  description = "VERIFY_TOKEN_HEADER: the header carrying that token."
  default     = "X-Verify-Token"
}

variable "verify_trusted_proxies" {
  type        = number
  description = "VERIFY_TRUSTED_PROXIES: proxies of ours that append to that header: the client is that many entries from the right."
  default     = 1
}

variable "verify_header_token" {
  type        = bool
  description = "VERIFY_HEADER_TOKEN_SECRET: create the verify-header-token secret (empty; add the token out of band) and make verify require the token it holds in verify_token_header."
  default     = false
}
