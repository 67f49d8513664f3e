# GENERATED from terraform/modules/aws: the module, every variable passed on.
# Do not edit: change the module, then
#   go test ./internal/tfcheck -run TestExamplesPassEveryVariable -update

module "eventrelay" {
  source = "../../modules/aws"

  name_prefix                        = var.name_prefix
  tags                               = var.tags
  lambda_zip                         = coalesce(var.lambda_zip, "${path.root}/../../../dist/lambda-arm64.zip")
  mcm_base_url                       = var.mcm_base_url
  mcm_platform_id                    = var.mcm_platform_id
  log_level                          = var.log_level
  ingest                             = var.ingest
  forwarder                          = var.forwarder
  verify                             = var.verify
  backfill                           = var.backfill
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  forwarder_maximum_concurrency      = var.forwarder_maximum_concurrency
  max_receive_count                  = var.max_receive_count
  queue_visibility_timeout_seconds   = var.queue_visibility_timeout_seconds
  message_retention_seconds          = var.message_retention_seconds
  log_retention_days                 = var.log_retention_days
  backfill_schedule                  = var.backfill_schedule
  backfill_time_budget               = var.backfill_time_budget
  backfill_rate                      = var.backfill_rate
  ledger_event_types                 = var.ledger_event_types
  ledger_ttl                         = var.ledger_ttl
  ledger_deletion_protection         = var.ledger_deletion_protection
  ledger_point_in_time_recovery      = var.ledger_point_in_time_recovery
  verify_event_map                   = var.verify_event_map
  dfinery_key_encoding               = var.dfinery_key_encoding
  pii_hash_fields                    = var.pii_hash_fields
  pii_ip_policy                      = var.pii_ip_policy
  secret_recovery_window_days        = var.secret_recovery_window_days
  extra_environment                  = var.extra_environment
  attestation_sources                = var.attestation_sources
  attestation_credential_ttl         = var.attestation_credential_ttl
  attestation_challenge_ttl          = var.attestation_challenge_ttl
  attestation_play_daily_budget      = var.attestation_play_daily_budget
  attestation_client_rate            = var.attestation_client_rate
  consent_default                    = var.consent_default
  consent_sources                    = var.consent_sources
  erase_enabled                      = var.erase_enabled
  erase_retention                    = var.erase_retention
  suppression_cache                  = var.suppression_cache
  catalog_enabled                    = var.catalog_enabled
  catalog_precedence                 = var.catalog_precedence
  catalog_cache                      = var.catalog_cache
  alarms_enabled                     = var.alarms_enabled
  alarm_topic_arn                    = var.alarm_topic_arn
  alert_thresholds                   = var.alert_thresholds
}
