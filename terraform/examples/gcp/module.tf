# GENERATED from terraform/modules/gcp: the module, every variable passed on.
# Do not edit: change the module, then
#   go test ./internal/tfcheck -run TestExamplesPassEveryVariable -update

module "eventrelay" {
  source = "../../modules/gcp"

  project_id                    = var.project_id
  region                        = var.region
  name_prefix                   = var.name_prefix
  labels                        = var.labels
  source_archive                = coalesce(var.source_archive, "${path.root}/../../../dist/gcp-source.zip")
  go_runtime                    = var.go_runtime
  build_service_account         = var.build_service_account
  mcm_base_url                  = var.mcm_base_url
  mcm_platform_id               = var.mcm_platform_id
  log_level                     = var.log_level
  ingest                        = var.ingest
  forwarder                     = var.forwarder
  verify                        = var.verify
  backfill                      = var.backfill
  public_ingest                 = var.public_ingest
  public_verify                 = var.public_verify
  max_delivery_attempts         = var.max_delivery_attempts
  ack_deadline_seconds          = var.ack_deadline_seconds
  message_retention_seconds     = var.message_retention_seconds
  backfill_schedule             = var.backfill_schedule
  backfill_time_zone            = var.backfill_time_zone
  backfill_time_budget          = var.backfill_time_budget
  backfill_rate                 = var.backfill_rate
  create_firestore_database     = var.create_firestore_database
  firestore_database            = var.firestore_database
  firestore_location            = var.firestore_location
  firestore_delete_protection   = var.firestore_delete_protection
  ledger_collection             = var.ledger_collection
  ledger_event_types            = var.ledger_event_types
  ledger_ttl                    = var.ledger_ttl
  verify_event_map              = var.verify_event_map
  dfinery_key_encoding          = var.dfinery_key_encoding
  extra_environment             = var.extra_environment
  pii_hash_fields               = var.pii_hash_fields
  pii_ip_policy                 = var.pii_ip_policy
  enable_apis                   = var.enable_apis
  attestation_sources           = var.attestation_sources
  attestation_credential_ttl    = var.attestation_credential_ttl
  attestation_challenge_ttl     = var.attestation_challenge_ttl
  attestation_play_daily_budget = var.attestation_play_daily_budget
  attestation_client_rate       = var.attestation_client_rate
  consent_default               = var.consent_default
  consent_sources               = var.consent_sources
  erase_enabled                 = var.erase_enabled
  erase_retention               = var.erase_retention
  suppression_cache             = var.suppression_cache
  catalog_enabled               = var.catalog_enabled
  catalog_collection            = var.catalog_collection
  catalog_precedence            = var.catalog_precedence
  catalog_cache                 = var.catalog_cache
  alerts_enabled                = var.alerts_enabled
  notification_channels         = var.notification_channels
  alert_thresholds              = var.alert_thresholds
}
