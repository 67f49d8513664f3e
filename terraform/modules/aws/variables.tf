variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (functions, queues, secrets, roles, table)."
  default     = "eventrelay"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 32 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
}

variable "lambda_zip" {
  type        = string
  description = "Path of dist/lambda-arm64.zip built by `make dist` (the bootstrap binary for every function)."
}

variable "mcm_base_url" {
  type        = string
  description = "The MCM Events API base URL Moloco gave you, e.g. https://<name>-evt.mcm-api.moloco.com."

  validation {
    condition     = can(regex("^https://", var.mcm_base_url))
    error_message = "mcm_base_url must be an https:// URL."
  }
}

variable "mcm_platform_id" {
  type        = string
  description = "Your MCM platform id (test or production)."

  validation {
    condition     = length(var.mcm_platform_id) > 0
    error_message = "mcm_platform_id must not be empty."
  }
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of every function: debug, info, warn or error."
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "ingest" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 30)
    reserved_concurrency = optional(number, -1)
  })
  description = "ingest Lambda: memory (MB), timeout, and reserved concurrency (its instance cap; -1: unreserved)."
  default     = {}

  validation {
    condition     = var.ingest.memory_mb >= 128 && var.ingest.memory_mb <= 10240 && var.ingest.timeout_seconds >= 1 && var.ingest.timeout_seconds <= 900 && var.ingest.reserved_concurrency >= -1
    error_message = "ingest: memory_mb 128 to 10240, timeout_seconds 1 to 900, reserved_concurrency -1 or more."
  }
}

variable "forwarder" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 60)
    reserved_concurrency = optional(number, -1)
  })
  description = "forwarder Lambda: memory (MB), timeout (the queue's visibility timeout is derived from it), reserved concurrency (-1: unreserved)."
  default     = {}

  validation {
    condition     = var.forwarder.memory_mb >= 128 && var.forwarder.memory_mb <= 10240 && var.forwarder.timeout_seconds >= 1 && var.forwarder.timeout_seconds <= 900 && var.forwarder.reserved_concurrency >= -1
    error_message = "forwarder: memory_mb 128 to 10240, timeout_seconds 1 to 900, reserved_concurrency -1 or more."
  }
}

variable "verify" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 15)
    reserved_concurrency = optional(number, -1)
  })
  description = "verify Lambda: memory (MB), timeout, reserved concurrency (-1: unreserved)."
  default     = {}

  validation {
    condition     = var.verify.memory_mb >= 128 && var.verify.memory_mb <= 10240 && var.verify.timeout_seconds >= 1 && var.verify.timeout_seconds <= 900 && var.verify.reserved_concurrency >= -1
    error_message = "verify: memory_mb 128 to 10240, timeout_seconds 1 to 900, reserved_concurrency -1 or more."
  }
}

variable "backfill" {
  type = object({
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 300)
    reserved_concurrency = optional(number, -1)
  })
  description = "backfill Lambda: memory (MB), timeout, reserved concurrency (-1: unreserved; an account at the default concurrency quota of 10 cannot reserve any, as Lambda keeps 10 unreserved; 1 keeps runs from overlapping once the quota is raised)."
  default     = {}

  validation {
    condition     = var.backfill.memory_mb >= 128 && var.backfill.memory_mb <= 10240 && var.backfill.timeout_seconds >= 60 && var.backfill.timeout_seconds <= 900 && var.backfill.reserved_concurrency >= -1
    error_message = "backfill: memory_mb 128 to 10240, timeout_seconds 60 to 900, reserved_concurrency -1 or more."
  }
}

variable "batch_size" {
  type        = number
  description = "Messages per forwarder invocation (the event source mapping's batch size); the forwarder sends up to 256 of them at once (FORWARDER_CONCURRENCY is set to match), so one instance forwards about batch_size / platform latency events per second."
  default     = 200

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be 1 to 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  type        = number
  description = "How long the event source mapping gathers a batch before invoking the forwarder (required above 0 when batch_size > 10)."
  default     = 1

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be 0 to 300."
  }
}

variable "forwarder_maximum_concurrency" {
  type        = number
  description = "Forwarder invocations the SQS event source runs at once (scaling_config.maximum_concurrency). A new account may run 10 Lambda executions at once in a region, all functions together: the default 2, plus 1 backfill run, leaves 10 - 2 - 1 = 7 for ingest and verify, where 10 would let a backlog take the whole quota and throttle the public functions (429). Each invocation sends min(batch_size, 256) events at once, so 2 forward about 2 x 200 / 0.05 s = 8000 events per second at 50 ms platform latency. Raise it once the concurrency quota is raised, keeping it + 1 + the public functions' peak within the quota."
  default     = 2

  validation {
    condition     = var.forwarder_maximum_concurrency >= 2 && var.forwarder_maximum_concurrency <= 1000
    error_message = "forwarder_maximum_concurrency must be 2 to 1000 (AWS's limits)."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives of one message before SQS moves it to the dead-letter queue. The forwarder dead-letters it itself, with a reason, one attempt earlier."
  default     = 10

  validation {
    condition     = var.max_receive_count >= 2 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 2 to 1000."
  }
}

variable "queue_visibility_timeout_seconds" {
  type        = number
  description = "Visibility timeout of the events queue; null derives 6 x the forwarder timeout + the batching window (AWS's advice). A set value must be at least that."
  default     = null

  validation {
    condition     = var.queue_visibility_timeout_seconds == null || (coalesce(var.queue_visibility_timeout_seconds, 0) >= 0 && coalesce(var.queue_visibility_timeout_seconds, 0) <= 43200)
    error_message = "queue_visibility_timeout_seconds must be null or 0 to 43200."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the events queue and the dead-letter queue keep a message."
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be 60 to 1209600 (14 days)."
  }
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention of every function's log group."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "backfill_schedule" {
  type        = string
  description = "EventBridge Scheduler expression of the backfill run, rate(...) or cron(...)."
  default     = "rate(15 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.backfill_schedule))
    error_message = "backfill_schedule must be rate(...) or cron(...)."
  }
}

variable "backfill_time_budget" {
  type        = string
  description = "BACKFILL_TIME_BUDGET: how long one backfill run may resend; with MCM_TIMEOUT (10 s) and 10 s to spare it must fit in the backfill timeout."
  default     = "240s"

  validation {
    condition     = can(regex("^[0-9]+(s|m)$", var.backfill_time_budget))
    error_message = "backfill_time_budget must be a duration in seconds or minutes, e.g. 240s or 4m."
  }
}

variable "backfill_rate" {
  type        = number
  description = "BACKFILL_RATE: events per second backfill sends at most."
  default     = 50

  validation {
    condition     = var.backfill_rate >= 1 && var.backfill_rate <= 10000 && floor(var.backfill_rate) == var.backfill_rate
    error_message = "backfill_rate must be a whole number from 1 to 10000."
  }
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

  validation {
    condition     = can(regex("^[0-9]+(h|m)$", var.ledger_ttl))
    error_message = "ledger_ttl must be a duration in hours or minutes, e.g. 720h."
  }
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

  validation {
    condition     = alltrue([for pair in split(",", var.verify_event_map) : trimspace(pair) == "" || length(split("=", pair)) == 2])
    error_message = "verify_event_map: comma-separated dfinery_event=EVENT_TYPE pairs, e.g. \"abx:sign_up=LAND\"."
  }
}

variable "dfinery_key_encoding" {
  type        = string
  description = "DFINERY_KEY_ENCODING: text, or uuid-bytes when DFINERY signs with the key's 16 bytes."
  default     = "text"

  validation {
    condition     = contains(["text", "uuid-bytes"], var.dfinery_key_encoding)
    error_message = "dfinery_key_encoding must be text or uuid-bytes."
  }
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

  validation {
    condition     = contains(["keep", "truncate", "drop"], var.pii_ip_policy)
    error_message = "pii_ip_policy must be keep, truncate or drop."
  }
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret can be restored (0 deletes at once)."
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or 7 to 30."
  }
}

variable "extra_environment" {
  type        = map(map(string))
  description = "More environment variables per function (keys ingest, forwarder, verify, backfill), e.g. PII_HASH_FIELDS or INGEST_MAX_EVENTS; they win over the module's."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : contains(["ingest", "forwarder", "verify", "backfill"], k)])
    error_message = "extra_environment keys must be ingest, forwarder, verify or backfill."
  }
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

  validation {
    condition     = var.archive_retention_days >= 1 && var.archive_retention_days <= 1095
    error_message = "archive_retention_days must be 1 to 1095 (three years, ERASE_RETENTION's default)."
  }
}
