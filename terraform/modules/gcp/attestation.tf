# App attestation (docs/attestation.md): the exchange is served by
# ingest under /attest/v1/. It needs the Play Integrity API when a source
# has an Android app, the credential signing keys secret (created empty),
# and TTL policies on the exchange's two Firestore collections.
#
# Play Integrity's decodeIntegrityToken takes no IAM role in this project:
# Google authorises the call by the Cloud project linked to the app in the
# Play Console. Link this project there; ingest's own service account then
# decodes the app's tokens.

# Kept beside the resources while variables.tf is reworked (issue 12);
# move into variables.tf then, and drop this annotation.
# tflint-ignore: terraform_standard_module_structure
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

  validation {
    condition     = alltrue([for s in values(var.attestation_sources) : contains(["off", "monitor", "require"], s.policy)])
    error_message = "attestation_sources: policy must be off, monitor or require."
  }

  validation {
    condition = alltrue([for s in values(var.attestation_sources) :
    s.apple == null ? true : length(s.apple.app_ids) > 0 && contains(["production", "development"], s.apple.environment)])
    error_message = "attestation_sources: apple needs app_ids, and environment production or development."
  }

  validation {
    condition = alltrue([for s in values(var.attestation_sources) :
      s.android == null ? true : length(s.android.package_names) > 0 && length(s.android.certificate_digests) > 0 &&
    contains(["MEETS_BASIC_INTEGRITY", "MEETS_DEVICE_INTEGRITY", "MEETS_STRONG_INTEGRITY"], s.android.device_verdict)])
    error_message = "attestation_sources: android needs package_names and certificate_digests, and device_verdict MEETS_BASIC_INTEGRITY, MEETS_DEVICE_INTEGRITY or MEETS_STRONG_INTEGRITY."
  }

  validation {
    condition = alltrue([for s in values(var.attestation_sources) :
    s.firebase == null ? true : can(regex("^[0-9]+$", s.firebase.project_number)) && length(s.firebase.app_ids) > 0])
    error_message = "attestation_sources: firebase needs a numeric project_number and app_ids."
  }
}

# Kept beside the resources while variables.tf is reworked (issue 12);
# move into variables.tf then, and drop this annotation.
# tflint-ignore: terraform_standard_module_structure
variable "attestation_credential_ttl" {
  type        = string
  description = "ATTEST_CREDENTIAL_TTL: how long an ingest credential from the exchange lasts (1m to 1h), e.g. 30m."
  default     = "30m"
}

# Kept beside the resources while variables.tf is reworked (issue 12);
# move into variables.tf then, and drop this annotation.
# tflint-ignore: terraform_standard_module_structure
variable "attestation_challenge_ttl" {
  type        = string
  description = "ATTEST_CHALLENGE_TTL: how long a one-time challenge may wait for its attestation (30s to 30m)."
  default     = "5m"
}

# Kept beside the resources while variables.tf is reworked (issue 12);
# move into variables.tf then, and drop this annotation.
# tflint-ignore: terraform_standard_module_structure
variable "attestation_play_daily_budget" {
  type        = number
  description = "ATTEST_PLAY_DAILY_BUDGET: Play Integrity decode calls the exchange makes in a UTC day, across every instance (Google's default quota is 10,000 a day per app). Past 80% an alert fires; once spent, Android exchanges answer 503 decode_budget_spent until 00:00 UTC."
  default     = 9000

  validation {
    condition     = var.attestation_play_daily_budget >= 1 && var.attestation_play_daily_budget <= 10000000
    error_message = "attestation_play_daily_budget: 1 to 10,000,000."
  }
}

# Kept beside the resources while variables.tf is reworked (issue 12);
# move into variables.tf then, and drop this annotation.
# tflint-ignore: terraform_standard_module_structure
variable "attestation_client_rate" {
  type        = number
  description = "ATTEST_CLIENT_RATE: exchange requests one client address (an IPv4 address, an IPv6 /64) may send an instance a minute, every route together; a genuine exchange is two requests every credential lifetime."
  default     = 20

  validation {
    condition     = var.attestation_client_rate >= 1 && var.attestation_client_rate <= 10000
    error_message = "attestation_client_rate: 1 to 10,000 a minute."
  }
}

locals {
  attestation_on      = length(var.attestation_sources) > 0
  attestation_android = anytrue([for s in values(var.attestation_sources) : s.android != null])

  attestation_environment = local.attestation_on ? {
    ATTEST_SOURCES                = jsonencode(var.attestation_sources)
    ATTEST_CREDENTIAL_KEYS_SECRET = google_secret_manager_secret.attest_credential_keys[0].id
    ATTEST_CREDENTIAL_TTL         = var.attestation_credential_ttl
    ATTEST_CHALLENGE_TTL          = var.attestation_challenge_ttl
    ATTEST_PLAY_DAILY_BUDGET      = tostring(var.attestation_play_daily_budget)
    ATTEST_CLIENT_RATE            = tostring(var.attestation_client_rate)
    # Cloud Run's front end appends the caller's address to X-Forwarded-For.
    INGEST_CLIENT_IP_HEADER = "X-Forwarded-For"
  } : {}
}

resource "google_project_service" "playintegrity" {
  count = var.enable_apis && local.attestation_android ? 1 : 0

  project            = var.project_id
  service            = "playintegrity.googleapis.com"
  disable_on_destroy = false
}

# {"credential_keys":[{"id":"...","secret":"<at least 32 random characters>"}]}, newest first.
resource "google_secret_manager_secret" "attest_credential_keys" {
  count = local.attestation_on ? 1 : 0

  project   = var.project_id
  secret_id = "${var.name_prefix}-attest-credential-keys"
  labels    = var.labels

  annotations = {
    purpose = "attestation credential signing keys ({\"credential_keys\":[...]}, the first active key signs)"
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_iam_member" "attest_credential_keys" {
  count = local.attestation_on ? 1 : 0

  project   = var.project_id
  secret_id = google_secret_manager_secret.attest_credential_keys[0].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.sa["ingest"].email}"
}

# The exchange's challenges and App Attest keys: Firestore deletes them
# some time after expires_at (the code checks expiry itself too).
resource "google_firestore_field" "attest_ttl" {
  for_each = local.attestation_on ? toset(["challenges", "keys"]) : toset([])

  project    = var.project_id
  database   = local.firestore_database
  collection = "${var.ledger_collection}-${each.key}"
  field      = "expires_at"

  ttl_config {}

  index_config {}
}

# Log-based metrics of the two attestation lines (docs/operations.md),
# made by monitoring.tf's google_logging_metric.metric with the others:
# they exist whether or not a source attests and cost nothing without
# traffic. internal/logmetrics counts them on the real functions' lines.
locals {
  attestation_log_metrics = {
    ingest_attestation = {
      description = "Attestation verdicts of requests to sources under monitor or require: policy, verdict (valid, missing, expired, invalid, unavailable)."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=\"attestation_checked\""
      labels      = { policy = "jsonPayload.policy", verdict = "jsonPayload.verdict", source = "jsonPayload.source" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    attest_decode_budget = {
      description = "Warnings about the day's Play Integrity decode budget (ATTEST_PLAY_DAILY_BUDGET): outcome decode_budget_low (past 80%) or decode_budget_spent."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=(\"decode_budget_low\" OR \"decode_budget_spent\")"
      labels      = { outcome = "jsonPayload.outcome" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    attest_exchanges = {
      description = "Attestation exchanges by route (challenge, apple/attest, apple/assert, android, firebase), reason (ok, or why refused) and source (a configured one, or unknown)."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=(\"exchanged\" OR \"exchange_refused\")"
      labels      = { route = "jsonPayload.route", reason = "jsonPayload.reason", source = "jsonPayload.source" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
  }

  attestation_label_descriptions = {
    policy  = "the source's attestation policy (monitor, require)"
    verdict = "the credential's verdict (valid, missing, expired, invalid, unavailable)"
    route   = "the exchange route"
    outcome = "decode_budget_low or decode_budget_spent"
  }

  attestation_alerts = {
    attest_decode_budget = {
      title     = "Play Integrity decode budget running out"
      condition = "the exchange logged a decode budget warning in 5 min"
      filter    = "metric.type=\"${local.metric_type.attest_decode_budget}\""
      threshold = 0
      duration  = 0
      period    = 300
      aligner   = "ALIGN_SUM"
      group_by  = ["metric.labels.outcome"]
      doc       = "Over 80% of the day's Play Integrity decode calls (ATTEST_PLAY_DAILY_BUDGET) are spent (decode_budget_low), or all (decode_budget_spent: Android exchanges answer 503 until 00:00 UTC). Look at attest_exchanges by route android and reason for a flood; raise the budget (and Google's quota) if the traffic is genuine."
    }
  }
}
