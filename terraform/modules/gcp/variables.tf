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

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 16 lower-case letters, digits or dashes, starting with a letter (service account ids are at most 30 characters)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes labels."
  default     = {}
}

variable "source_archive" {
  type        = string
  description = "Path of dist/gcp-source.zip built by `make dist` (go.mod and the function package at its root)."
}

variable "go_runtime" {
  type        = string
  description = "Cloud Functions Go runtime id; must be at least the go directive of go.mod."
  default     = "go126"

  validation {
    condition     = can(regex("^go1[0-9]{2}$", var.go_runtime))
    error_message = "go_runtime must be a runtime id such as go126."
  }
}

variable "build_service_account" {
  type        = string
  description = "Service account (full resource name projects/P/serviceAccounts/EMAIL) that builds the functions; null: the module creates one (<name_prefix>-build) with only what a build needs."
  default     = null

  validation {
    condition     = var.build_service_account == null || can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", var.build_service_account))
    error_message = "build_service_account must be projects/<project>/serviceAccounts/<email>, or null."
  }
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
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 20)
    concurrency     = optional(number, 200)
    memory          = optional(string, "256Mi")
    cpu             = optional(string, "1")
    timeout_seconds = optional(number, 60)
  })
  description = "Scaling of ingest: instances, requests per instance (concurrency), memory, CPU and request timeout."
  default     = {}

  validation {
    condition     = var.ingest.min_instances >= 0 && var.ingest.max_instances >= 1 && var.ingest.min_instances <= var.ingest.max_instances && var.ingest.max_instances <= 1000
    error_message = "ingest: need 0 <= min_instances <= max_instances <= 1000 and max_instances >= 1."
  }
  validation {
    condition     = var.ingest.concurrency >= 1 && var.ingest.concurrency <= 1000 && (var.ingest.concurrency == 1 || tonumber(var.ingest.cpu) >= 1)
    error_message = "ingest: concurrency must be 1 to 1000, and above 1 it needs cpu >= 1."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.ingest.memory)) && var.ingest.timeout_seconds >= 1 && var.ingest.timeout_seconds <= 3600
    error_message = "ingest: memory must look like 256Mi or 1Gi, and timeout_seconds be 1 to 3600."
  }
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

  validation {
    condition     = var.forwarder.min_instances >= 0 && var.forwarder.max_instances >= 1 && var.forwarder.min_instances <= var.forwarder.max_instances && var.forwarder.max_instances <= 1000
    error_message = "forwarder: need 0 <= min_instances <= max_instances <= 1000 and max_instances >= 1."
  }
  validation {
    condition     = var.forwarder.concurrency >= 1 && var.forwarder.concurrency <= 256 && (var.forwarder.concurrency == 1 || tonumber(var.forwarder.cpu) >= 1)
    error_message = "forwarder: concurrency must be 1 to 256 (the MCM client's connections per host), and above 1 it needs cpu >= 1."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.forwarder.memory)) && var.forwarder.timeout_seconds >= 1 && var.forwarder.timeout_seconds <= 600
    error_message = "forwarder: memory must look like 256Mi or 1Gi, and timeout_seconds be 1 to 600 (a push request lasts at most the ack deadline, 600 s)."
  }
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

  validation {
    condition     = var.verify.min_instances >= 0 && var.verify.max_instances >= 1 && var.verify.min_instances <= var.verify.max_instances && var.verify.max_instances <= 1000
    error_message = "verify: need 0 <= min_instances <= max_instances <= 1000 and max_instances >= 1."
  }
  validation {
    condition     = var.verify.concurrency >= 1 && var.verify.concurrency <= 1000 && (var.verify.concurrency == 1 || tonumber(var.verify.cpu) >= 1)
    error_message = "verify: concurrency must be 1 to 1000, and above 1 it needs cpu >= 1."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.verify.memory)) && var.verify.timeout_seconds >= 1 && var.verify.timeout_seconds <= 3600
    error_message = "verify: memory must look like 256Mi or 1Gi, and timeout_seconds be 1 to 3600."
  }
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

  validation {
    condition     = var.backfill.min_instances >= 0 && var.backfill.max_instances >= 1 && var.backfill.min_instances <= var.backfill.max_instances && var.backfill.max_instances <= 100
    error_message = "backfill: need 0 <= min_instances <= max_instances <= 100 and max_instances >= 1."
  }
  validation {
    condition     = var.backfill.concurrency >= 1 && var.backfill.concurrency <= 1000 && (var.backfill.concurrency == 1 || tonumber(var.backfill.cpu) >= 1)
    error_message = "backfill: concurrency must be 1 to 1000, and above 1 it needs cpu >= 1."
  }
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.backfill.memory)) && var.backfill.timeout_seconds >= 60 && var.backfill.timeout_seconds <= 1800
    error_message = "backfill: memory must look like 256Mi or 1Gi, and timeout_seconds be 60 to 1800 (the scheduler waits at most 30 min)."
  }
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

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100 && floor(var.max_delivery_attempts) == var.max_delivery_attempts
    error_message = "max_delivery_attempts must be a whole number from 5 to 100 (Pub/Sub's limits)."
  }
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Ack deadline of the events subscription: how long Pub/Sub waits for the forwarder's answer to a push."
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be 10 to 600."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long the events topic and subscription keep messages, acknowledged ones included, so backfill can seek back and replay."
  default     = 604800

  validation {
    condition     = var.message_retention_seconds >= 600 && var.message_retention_seconds <= 604800
    error_message = "message_retention_seconds must be 600 (10 min) to 604800 (7 days), the subscription's limits."
  }
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

  validation {
    condition     = can(regex("^[0-9]+(s|m)$", var.backfill_time_budget))
    error_message = "backfill_time_budget must be a duration in seconds or minutes, e.g. 240s or 4m."
  }

  # A run holds what it pulled for the budget + MCM_TIMEOUT (10 s) + 5 s + 1
  # min, and Pub/Sub's longest ack deadline is 600 s: beyond 525 s, messages
  # the run still holds would be delivered again mid-run (the function
  # refuses to start).
  validation {
    # (try: a malformed value is the rule above's to report.)
    condition     = try(tonumber(regex("^[0-9]+", var.backfill_time_budget)) * (endswith(var.backfill_time_budget, "m") ? 60 : 1) <= 525, true)
    error_message = "backfill_time_budget must be at most 525s (8m) on Pub/Sub: a run holds its messages for the budget + 75 s, and an ack deadline lasts 600 s at most."
  }
}

variable "backfill_rate" {
  type        = number
  description = "BACKFILL_RATE: events per second backfill sends at most, to stay under the platform's throttling."
  default     = 50

  validation {
    condition     = var.backfill_rate >= 1 && var.backfill_rate <= 10000 && floor(var.backfill_rate) == var.backfill_rate
    error_message = "backfill_rate must be a whole number from 1 to 10000."
  }
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

  validation {
    condition     = can(regex("^[0-9]+(h|m)$", var.ledger_ttl))
    error_message = "ledger_ttl must be a duration in hours or minutes, e.g. 720h."
  }
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

variable "extra_environment" {
  type        = map(map(string))
  description = "More environment variables per function (keys ingest, forwarder, verify, backfill), e.g. PII_HASH_FIELDS or INGEST_MAX_EVENTS; they win over the module's."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : contains(["ingest", "forwarder", "verify", "backfill"], k)])
    error_message = "extra_environment keys must be ingest, forwarder, verify or backfill."
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

  validation {
    condition     = var.archive_retention_days >= 1 && var.archive_retention_days <= 1095
    error_message = "archive_retention_days must be 1 to 1095 (three years, ERASE_RETENTION's default)."
  }
}

variable "exclude_successful_request_logs" {
  type        = bool
  description = "Exclude from Cloud Logging the request log entries Cloud Run writes for the module's functions' successful requests (status below 400), the largest log term of docs/cost.md. What is lost: the per-request latency and status entries of successful requests. The functions' own lines and every 4xx/5xx request log entry remain, and Cloud Run's request metrics (request_count, request_latencies) are not log-based and stay."
  default     = true
}
