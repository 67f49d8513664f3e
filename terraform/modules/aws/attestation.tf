# App attestation (docs/attestation.md): the exchange is served by
# ingest under /attest/v1/, its state in the ledger table (TTL on
# expires_at). It needs the credential signing keys secret and, when a
# source has an Android app, a Google service account key for the Play
# Integrity API (both created empty), and ingest's rights on both and on
# the table's single items.

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

  attestation_environment = merge(local.attestation_on ? {
    ATTEST_SOURCES                = jsonencode(var.attestation_sources)
    ATTEST_CREDENTIAL_KEYS_SECRET = aws_secretsmanager_secret.attest_credential_keys[0].arn
    ATTEST_CREDENTIAL_TTL         = var.attestation_credential_ttl
    ATTEST_CHALLENGE_TTL          = var.attestation_challenge_ttl
    ATTEST_PLAY_DAILY_BUDGET      = tostring(var.attestation_play_daily_budget)
    ATTEST_CLIENT_RATE            = tostring(var.attestation_client_rate)
    } : {}, local.attestation_android ? {
    PLAYINTEGRITY_CREDENTIALS_SECRET = aws_secretsmanager_secret.play_integrity_credentials[0].arn
  } : {})

  attestation_secrets = concat(aws_secretsmanager_secret.attest_credential_keys[*].arn, aws_secretsmanager_secret.play_integrity_credentials[*].arn)
}

# {"credential_keys":[{"id":"...","secret":"<at least 32 random characters>"}]}, newest first.
resource "aws_secretsmanager_secret" "attest_credential_keys" {
  count = local.attestation_on ? 1 : 0

  name                    = "${var.name_prefix}/attest-credential-keys"
  description             = "attestation credential signing keys ({\"credential_keys\":[...]}, the first active key signs)"
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# A Google service account key (JSON) of the Cloud project linked to the
# Android app in the Play Console, for decodeIntegrityToken.
resource "aws_secretsmanager_secret" "play_integrity_credentials" {
  count = local.attestation_android ? 1 : 0

  name                    = "${var.name_prefix}/play-integrity-credentials"
  description             = "Google service account key (JSON) for the Play Integrity API"
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

data "aws_iam_policy_document" "ingest_attestation" {
  count = local.attestation_on ? 1 : 0

  statement {
    sid       = "ReadAttestationSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.attestation_secrets
  }

  # Challenges: put, conditional delete; keys: conditional put, get,
  # conditional update. Single items of the ledger table only.
  statement {
    sid       = "AttestationState"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

resource "aws_iam_role_policy" "ingest_attestation" {
  count = local.attestation_on ? 1 : 0

  name   = "${var.name_prefix}-ingest-attestation"
  role   = aws_iam_role.fn["ingest"].id
  policy = data.aws_iam_policy_document.ingest_attestation[0].json
}

# Metric filters of the two attestation lines (docs/operations.md), made
# by monitoring.tf's aws_cloudwatch_log_metric_filter.metric with the
# others; internal/logmetrics counts them on the real functions' lines.
locals {
  attestation_metric_filters = {
    ingest_attestation = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"attestation_checked\" }"
      metric     = "ingest_attestation"
      value      = "1"
      unit       = "Count"
      dimensions = { Policy = "$.policy", Verdict = "$.verdict" }
    }
    attest_decode_budget = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"decode_budget_low\" || $.outcome = \"decode_budget_spent\" }"
      metric     = "attest_decode_budget"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome" }
    }
    attest_exchanges = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"exchanged\" || $.outcome = \"exchange_refused\" }"
      metric     = "attest_exchanges"
      value      = "1"
      unit       = "Count"
      dimensions = { Route = "$.route", Reason = "$.reason" }
    }
  }

  attestation_alarms = {
    for outcome in ["decode_budget_low", "decode_budget_spent"] : "attest_${outcome}" => {
      description = outcome == "decode_budget_low" ? "Over 80% of the day's Play Integrity decode calls (ATTEST_PLAY_DAILY_BUDGET) are spent. Look at attest_exchanges by Route android and Reason for a flood; raise the budget (and Google's quota) if the traffic is genuine." : "The day's Play Integrity decode budget is spent: Android exchanges answer 503 decode_budget_spent until 00:00 UTC."
      namespace   = local.metric_namespace
      metric      = local.attestation_metric_filters.attest_decode_budget.metric
      dimensions  = { Outcome = outcome }
      statistic   = "Sum"
      period      = 300
      periods     = 1
      threshold   = 0
    }
  }
}
