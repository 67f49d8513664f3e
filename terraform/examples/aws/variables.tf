# GENERATED from terraform/modules/aws: every variable of the module, with
# its type, description and default, so that any of them set in
# terraform.tfvars takes effect (the module checks the values).
# Do not edit: change the module, then
#   go test ./internal/tfcheck -run TestExamplesPassEveryVariable -update

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (functions, queues, secrets, roles, table)."
  default     = "eventrelay"
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
}

variable "lambda_zip" {
  type        = string
  description = "Path of the Lambda zip; null uses dist/lambda-arm64.zip of this checkout (make dist)."
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
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 30)
    reserved_concurrency = optional(number, -1)
  })
  description = "ingest Lambda: memory (MB), timeout, and reserved concurrency (its instance cap; -1: unreserved)."
  default     = {}
}

variable "forwarder" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 60)
    reserved_concurrency = optional(number, -1)
  })
  description = "forwarder Lambda: memory (MB), timeout (the queue's visibility timeout is derived from it), reserved concurrency (-1: unreserved)."
  default     = {}
}

variable "verify" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 15)
    reserved_concurrency = optional(number, -1)
  })
  description = "verify Lambda: memory (MB), timeout, reserved concurrency (-1: unreserved)."
  default     = {}
}

variable "backfill" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 300)
    reserved_concurrency = optional(number, -1)
  })
  description = "backfill Lambda: memory (MB), timeout, reserved concurrency (-1: unreserved; an account at the default concurrency quota of 10 cannot reserve any, as Lambda keeps 10 unreserved; 1 keeps runs from overlapping once the quota is raised)."
  default     = {}
}

variable "batch_size" {
  type        = number
  description = "Messages per forwarder invocation (the event source mapping's batch size); the forwarder sends up to 256 of them at once (FORWARDER_CONCURRENCY is set to match), so one instance forwards about batch_size / platform latency events per second."
  default     = 200
}

variable "maximum_batching_window_in_seconds" {
  type        = number
  description = "How long the event source mapping gathers a batch before invoking the forwarder (required above 0 when batch_size > 10)."
  default     = 1
}

variable "forwarder_maximum_concurrency" {
  type        = number
  description = "Forwarder invocations the SQS event source runs at once (scaling_config.maximum_concurrency). A new account may run 10 Lambda executions at once in a region, all functions together: the default 2, plus 1 backfill run, leaves 10 - 2 - 1 = 7 for ingest and verify, where 10 would let a backlog take the whole quota and throttle the public functions (429). Each invocation sends min(batch_size, 256) events at once, so 2 forward about 2 x 200 / 0.05 s = 8000 events per second at 50 ms platform latency. Raise it once the concurrency quota is raised, keeping it + 1 + the public functions' peak within the quota."
  default     = 2
}

variable "max_receive_count" {
  type        = number
  description = "Receives of one message before SQS moves it to the dead-letter queue. The forwarder dead-letters it itself, with a reason, one attempt earlier."
  default     = 10
}

variable "queue_visibility_timeout_seconds" {
  type        = number
  description = "Visibility timeout of the events queue; null derives 6 x the forwarder timeout + the batching window (AWS's advice). A set value must be at least that."
  default     = null
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the events queue and the dead-letter queue keep a message."
  default     = 1209600
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention of every function's log group."
  default     = 30
}

variable "backfill_schedule" {
  type        = string
  description = "EventBridge Scheduler expression of the backfill run, rate(...) or cron(...)."
  default     = "rate(15 minutes)"
}

variable "backfill_time_budget" {
  type        = string
  description = "BACKFILL_TIME_BUDGET: how long one backfill run may resend; with MCM_TIMEOUT (10 s) and 10 s to spare it must fit in the backfill timeout."
  default     = "240s"
}

variable "backfill_rate" {
  type        = number
  description = "BACKFILL_RATE: events per second backfill sends at most."
  default     = 50
}

variable "ledger_event_types" {
  type        = list(string)
  description = "LEDGER_EVENT_TYPES: event types ingest records in the ledger for verify."
  default     = ["PURCHASE"]
}

variable "ledger_ttl" {
  type        = string
  description = "LEDGER_TTL: how long a ledger entry lives (DynamoDB TTL deletes it after expires_at)."
  default     = "720h"
}

variable "ledger_deletion_protection" {
  type        = bool
  description = "Refuse to delete the ledger table (turn off before terraform destroy)."
  default     = true
}

variable "ledger_point_in_time_recovery" {
  type        = bool
  description = "Point-in-time recovery of the ledger table."
  default     = true
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

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret can be restored (0 deletes at once)."
  default     = 7
}

variable "extra_environment" {
  type        = map(map(string))
  description = "More environment variables per function (keys ingest, forwarder, verify, backfill), e.g. PII_HASH_FIELDS or INGEST_MAX_EVENTS; they win over the module's."
  default     = {}
}

variable "archive_enabled" {
  type        = bool
  description = "Archive every accepted event in an S3 bucket the module creates: ingest publishes to an SNS topic that fans out to the events queue (raw message delivery) and to Kinesis Data Firehose, which writes the bucket (docs/backfill.md, Replay from the archive). Off by default: a second copy of every pseudonymised event for archive_retention_days (docs/data-governance.md, The archive)."
  default     = false
}

variable "archive_retention_days" {
  type        = number
  description = "Days the archive keeps a file before the bucket's lifecycle deletes it; keep it below ERASE_RETENTION so an erasure's suppression outlives every archived event it covers."
  default     = 90
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
  description = "Create the item catalog table (partition key item_id) and enrich events at ingest from it; the operator keeps its items."
  default     = false
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

variable "alarms_enabled" {
  type        = bool
  description = "Whether the alarms notify (actions_enabled). They are created either way."
  default     = true
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic every alarm notifies; empty: the module creates <name_prefix>-alarms (output alarm_topic_arn) for you to subscribe to."
  default     = ""
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
    Alarm thresholds (docs/operations.md, Alerts). deadletter_backlog_minutes: how long dead letters may wait before the backlog alarm;
    deadletter_oldest_age_hours: the oldest dead letter's age; events_backlog_age_minutes: the oldest message's age on the
    events queue; dead_letters_per_5m: events the forwarder dead-letters in 5 minutes; ingest_5xx_ratio: share of ingest
    requests answered 5xx over 5 minutes; auth_failures_per_5m: ingest authentication failures in 5 minutes (a leaked or
    rotated key); platform_auth_failures_5m: events the platform refused for the API key in 5 minutes (0: any);
    verify_failure_ratio: share of DFINERY callbacks answered with a failure over 15 minutes; backfill_run_failures: failed
    backfill runs in an hour (0: any); function_errors_per_5m: Lambda Errors per function in 5 minutes; throttles_per_5m:
    Lambda Throttles per function in 5 minutes.
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

variable "forwarder_first_backoff" {
  type        = string
  description = "FORWARDER_FIRST_BACKOFF: the wait after a first retryable failure (Moloco asks for at least 5 s); it doubles per attempt."
  default     = "5s"
}

variable "forwarder_max_backoff" {
  type        = string
  description = "FORWARDER_MAX_BACKOFF: the longest wait between attempts; at least FORWARDER_FIRST_BACKOFF."
  default     = "10m"
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
