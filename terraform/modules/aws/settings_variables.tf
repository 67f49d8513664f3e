# Generated from shared/settings by internal/tfcheck
# (TestSettingsVariablesAreGenerated -update): do not edit. Module variables
# for the functions' settings that have no other home in this module, each
# with the registry's description, default and bounds (docs/configuration.md
# lists every setting).

# tflint-ignore: terraform_standard_module_structure
variable "attestation_key_ttl" {
  type        = string
  description = "ATTEST_KEY_TTL: an App Attest key unused this long is forgotten."
  default     = "4320h"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.attestation_key_ttl))
    error_message = "attestation_key_ttl must be a duration such as 30s, 10m or 720h (24h to 9600h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "attestation_play_max_age" {
  type        = string
  description = "ATTEST_PLAY_MAX_AGE: how old a Play Integrity verdict may be."
  default     = "5m"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.attestation_play_max_age))
    error_message = "attestation_play_max_age must be a duration such as 30s, 10m or 720h (30s to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "backfill_archive_lateness" {
  type        = string
  description = "BACKFILL_ARCHIVE_LATENESS: how long after an event's own time ingest may still have queued it: an archive replay also reads the files written this long after the window's end."
  default     = "24h"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.backfill_archive_lateness))
    error_message = "backfill_archive_lateness must be a duration such as 30s, 10m or 720h (1m to 8784h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "backfill_batch" {
  type        = number
  description = "BACKFILL_BATCH: the most messages a run receives at once."
  default     = 100

  validation {
    condition     = var.backfill_batch >= 1 && var.backfill_batch <= 1000 && floor(var.backfill_batch) == var.backfill_batch
    error_message = "backfill_batch must be a whole number from 1 to 1000."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "forwarder_breaker_cooldown" {
  type        = string
  description = "FORWARDER_BREAKER_COOLDOWN: how long the open breaker holds deliveries back before one is tried again."
  default     = "30s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.forwarder_breaker_cooldown))
    error_message = "forwarder_breaker_cooldown must be a duration such as 30s, 10m or 720h (1s to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "forwarder_breaker_threshold" {
  type        = number
  description = "FORWARDER_BREAKER_THRESHOLD: consecutive retryable failures after which an instance stops calling the platform for a while."
  default     = 20

  validation {
    condition     = var.forwarder_breaker_threshold >= 1 && var.forwarder_breaker_threshold <= 10000 && floor(var.forwarder_breaker_threshold) == var.forwarder_breaker_threshold
    error_message = "forwarder_breaker_threshold must be a whole number from 1 to 10000."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "forwarder_dedupe_window" {
  type        = string
  description = "FORWARDER_DEDUPE_WINDOW: per-instance memory of delivered ids, so a redelivery does not call the platform twice (at most some 32 MB)."
  default     = "1h"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.forwarder_dedupe_window))
    error_message = "forwarder_dedupe_window must be a duration such as 30s, 10m or 720h (1m to 48h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "forwarder_first_backoff" {
  type        = string
  description = "FORWARDER_FIRST_BACKOFF: the wait after a first retryable failure (Moloco asks for at least 5 s); it doubles per attempt."
  default     = "5s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.forwarder_first_backoff))
    error_message = "forwarder_first_backoff must be a duration such as 30s, 10m or 720h (1ms to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "forwarder_max_backoff" {
  type        = string
  description = "FORWARDER_MAX_BACKOFF: the longest wait between attempts; at least FORWARDER_FIRST_BACKOFF."
  default     = "10m"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.forwarder_max_backoff))
    error_message = "forwarder_max_backoff must be a duration such as 30s, 10m or 720h (1ms to 12h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_cors_origins" {
  type        = list(string)
  description = "INGEST_CORS_ORIGINS: web page origins (https://shop.example, as the browser sends Origin; no wildcard) that may send events and exchange App Check tokens from a browser; empty: no CORS."
  default     = []
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_dedupe_window" {
  type        = string
  description = "INGEST_DEDUPE_WINDOW: per-instance memory of queued ids (at most some 24 MB, about 270,000 ids; 0: off); the forwarder sends a repeat published later than this after the first."
  default     = "10m"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.ingest_dedupe_window))
    error_message = "ingest_dedupe_window must be a duration such as 30s, 10m or 720h (0s to 24h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_future_skew" {
  type        = string
  description = "INGEST_FUTURE_SKEW: how far ahead of ours a client's clock may run."
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.ingest_future_skew))
    error_message = "ingest_future_skew must be a duration such as 30s, 10m or 720h (0s to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_max_age" {
  type        = string
  description = "INGEST_MAX_AGE: refuse events older than this; 0 accepts any age."
  default     = "0s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.ingest_max_age))
    error_message = "ingest_max_age must be a duration such as 30s, 10m or 720h (0s to 8760h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_max_body_bytes" {
  type        = number
  description = "INGEST_MAX_BODY_BYTES: the largest request body, after gzip expansion."
  default     = 512000

  validation {
    condition     = var.ingest_max_body_bytes >= 1024 && var.ingest_max_body_bytes <= 10485760 && floor(var.ingest_max_body_bytes) == var.ingest_max_body_bytes
    error_message = "ingest_max_body_bytes must be a whole number from 1024 to 10485760."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_max_event_bytes" {
  type        = number
  description = "INGEST_MAX_EVENT_BYTES: the largest event, as JSON."
  default     = 32768

  validation {
    condition     = var.ingest_max_event_bytes >= 256 && var.ingest_max_event_bytes <= 1048576 && floor(var.ingest_max_event_bytes) == var.ingest_max_event_bytes
    error_message = "ingest_max_event_bytes must be a whole number from 256 to 1048576."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_max_events" {
  type        = number
  description = "INGEST_MAX_EVENTS: the most events in one request."
  default     = 1000

  validation {
    condition     = var.ingest_max_events >= 1 && var.ingest_max_events <= 10000 && floor(var.ingest_max_events) == var.ingest_max_events
    error_message = "ingest_max_events must be a whole number from 1 to 10000."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_publish_timeout" {
  type        = string
  description = "INGEST_PUBLISH_TIMEOUT: how long ingest waits for the queue's acknowledgement before answering 503."
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.ingest_publish_timeout))
    error_message = "ingest_publish_timeout must be a duration such as 30s, 10m or 720h (100ms to 5m)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_retry_after" {
  type        = string
  description = "INGEST_RETRY_AFTER: the Retry-After advised with a 503 (ingest, the attestation exchange and /erase)."
  default     = "5s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.ingest_retry_after))
    error_message = "ingest_retry_after must be a duration such as 30s, 10m or 720h (1s to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "ingest_signature_tolerance" {
  type        = string
  description = "INGEST_SIGNATURE_TOLERANCE: the accepted age of a request signature."
  default     = "5m"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.ingest_signature_tolerance))
    error_message = "ingest_signature_tolerance must be a duration such as 30s, 10m or 720h (10s to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "mcm_timeout" {
  type        = string
  description = "MCM_TIMEOUT: how long one Events API call may wait for its answer."
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.mcm_timeout))
    error_message = "mcm_timeout must be a duration such as 30s, 10m or 720h (100ms to 1m)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "secrets_cache_ttl" {
  type        = string
  description = "SECRETS_CACHE_TTL: how long a secret value is reused before it is read again (a rotation is seen within it)."
  default     = "1m"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.secrets_cache_ttl))
    error_message = "secrets_cache_ttl must be a duration such as 30s, 10m or 720h (1s to 1h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_allowed_ips" {
  type        = list(string)
  description = "VERIFY_ALLOWED_IPS: CIDRs or addresses DFINERY calls from; empty: any."
  default     = []
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_client_ip_header" {
  type        = string
  description = "VERIFY_CLIENT_IP_HEADER: the header carrying the caller's address (e.g. X-Forwarded-For); empty: the connection's."
  default     = ""
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_failure_body" {
  type        = string
  description = "VERIFY_FAILURE_BODY: the body of a refusal; {reason} is replaced by the reason."
  default     = "{\"result\":\"failure\",\"reason\":\"{reason}\"}"
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_failure_status" {
  type        = number
  description = "VERIFY_FAILURE_STATUS: the HTTP status of a refusal."
  default     = 422

  validation {
    condition     = var.verify_failure_status >= 200 && var.verify_failure_status <= 599 && floor(var.verify_failure_status) == var.verify_failure_status
    error_message = "verify_failure_status must be a whole number from 200 to 599."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_freshness" {
  type        = string
  description = "VERIFY_FRESHNESS: how old a callback's event may be; at most LEDGER_TTL."
  default     = "24h"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.verify_freshness))
    error_message = "verify_freshness must be a duration such as 30s, 10m or 720h (1m to 720h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_identity" {
  type        = string
  description = "VERIFY_IDENTITY: optional: confirm a callback naming a recorded order with its amount and currency even when no identifier matches (a spoof risk; only for a backend that sends ingest no id)."
  default     = "required"

  validation {
    condition     = contains(["required", "optional"], var.verify_identity)
    error_message = "verify_identity must be required, optional."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_ledger_deadline" {
  type        = string
  description = "VERIFY_LEDGER_DEADLINE: how long a callback may wait for the ledger before it is answered 503 unavailable (not stored); above VERIFY_LOOKUP_RETRY."
  default     = "2s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.verify_ledger_deadline))
    error_message = "verify_ledger_deadline must be a duration such as 30s, 10m or 720h (50ms to 4s)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_lookup_retry" {
  type        = string
  description = "VERIFY_LOOKUP_RETRY: how long a miss is retried (a callback may beat ingest's ledger write)."
  default     = "300ms"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.verify_lookup_retry))
    error_message = "verify_lookup_retry must be a duration such as 30s, 10m or 720h (0s to 2s)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_match_device_time" {
  type        = bool
  description = "VERIFY_MATCH_DEVICE_TIME: confirm a callback without an order or user id by device id and time alone (whoever knows a device id can then get events near its real ones confirmed)."
  default     = false
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_max_body_bytes" {
  type        = number
  description = "VERIFY_MAX_BODY_BYTES: the largest callback body."
  default     = 65536

  validation {
    condition     = var.verify_max_body_bytes >= 1024 && var.verify_max_body_bytes <= 1048576 && floor(var.verify_max_body_bytes) == var.verify_max_body_bytes
    error_message = "verify_max_body_bytes must be a whole number from 1024 to 1048576."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_order_id_key" {
  type        = string
  description = "VERIFY_ORDER_ID_KEY: the param_json key(s) of the order id (our event id), comma separated."
  default     = "abx:order_id"
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_sources" {
  type        = list(string)
  description = "VERIFY_SOURCES: the ingest sources whose events verify confirms; empty: all."
  default     = []
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_success_body" {
  type        = string
  description = "VERIFY_SUCCESS_BODY: the body of a confirmation."
  default     = "{\"result\":\"success\"}"
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_success_status" {
  type        = number
  description = "VERIFY_SUCCESS_STATUS: the HTTP status of a confirmation."
  default     = 200

  validation {
    condition     = var.verify_success_status >= 200 && var.verify_success_status <= 299 && floor(var.verify_success_status) == var.verify_success_status
    error_message = "verify_success_status must be a whole number from 200 to 299."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_time_tolerance" {
  type        = string
  description = "VERIFY_TIME_TOLERANCE: how far a callback's event time may be from the time ingest recorded."
  default     = "10m"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m|h)$", var.verify_time_tolerance))
    error_message = "verify_time_tolerance must be a duration such as 30s, 10m or 720h (1s to 24h)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_timezone" {
  type        = string
  description = "VERIFY_TIMEZONE: the zone of an event_datetime without an offset."
  default     = "UTC"
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_token_header" {
  type        = string
  description = "VERIFY_TOKEN_HEADER: the header carrying that token."
  default     = "X-Verify-Token"
}

# tflint-ignore: terraform_standard_module_structure
variable "verify_trusted_proxies" {
  type        = number
  description = "VERIFY_TRUSTED_PROXIES: proxies of ours that append to that header: the client is that many entries from the right."
  default     = 1

  validation {
    condition     = var.verify_trusted_proxies >= 1 && var.verify_trusted_proxies <= 10 && floor(var.verify_trusted_proxies) == var.verify_trusted_proxies
    error_message = "verify_trusted_proxies must be a whole number from 1 to 10."
  }
}
