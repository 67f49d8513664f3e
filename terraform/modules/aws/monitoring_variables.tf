# Monitoring's variables (monitoring.tf).
# Kept apart from variables.tf so monitoring can be read (and merged) on its own.
# tflint-ignore: terraform_standard_module_structure
variable "alarms_enabled" {
  type        = bool
  description = "Whether the alarms notify (actions_enabled). They are created either way."
  default     = true
}

# tflint-ignore: terraform_standard_module_structure
variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic every alarm notifies; empty: the module creates <name_prefix>-alarms (output alarm_topic_arn) for you to subscribe to."
  default     = ""
}

# tflint-ignore: terraform_standard_module_structure
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

  validation {
    condition     = var.alert_thresholds.ingest_5xx_ratio > 0 && var.alert_thresholds.ingest_5xx_ratio < 1 && var.alert_thresholds.verify_failure_ratio > 0 && var.alert_thresholds.verify_failure_ratio < 1
    error_message = "alert_thresholds: the ratios (ingest_5xx_ratio, verify_failure_ratio) must be between 0 and 1."
  }
}
