# The functions' settings set from settings_variables.tf (and the ledger's,
# which ingest and verify must agree on), per function: merged into each
# function's environment in main.tf, before extra_environment.
locals {
  settings_environment = {
    ingest = {
      LEDGER_EVENT_TYPES         = join(",", var.ledger_event_types)
      LEDGER_TTL                 = var.ledger_ttl
      ATTEST_KEY_TTL             = var.attestation_key_ttl
      ATTEST_PLAY_MAX_AGE        = var.attestation_play_max_age
      INGEST_CORS_ORIGINS        = join(",", var.ingest_cors_origins)
      INGEST_DEDUPE_WINDOW       = var.ingest_dedupe_window
      INGEST_FUTURE_SKEW         = var.ingest_future_skew
      INGEST_MAX_AGE             = var.ingest_max_age
      INGEST_MAX_BODY_BYTES      = tostring(var.ingest_max_body_bytes)
      INGEST_MAX_EVENTS          = tostring(var.ingest_max_events)
      INGEST_MAX_EVENT_BYTES     = tostring(var.ingest_max_event_bytes)
      INGEST_PUBLISH_TIMEOUT     = var.ingest_publish_timeout
      INGEST_RETRY_AFTER         = var.ingest_retry_after
      INGEST_SIGNATURE_TOLERANCE = var.ingest_signature_tolerance
      SECRETS_CACHE_TTL          = var.secrets_cache_ttl
    }
    forwarder = {
      FORWARDER_BREAKER_COOLDOWN  = var.forwarder_breaker_cooldown
      FORWARDER_BREAKER_THRESHOLD = tostring(var.forwarder_breaker_threshold)
      FORWARDER_DEDUPE_WINDOW     = var.forwarder_dedupe_window
      FORWARDER_FIRST_BACKOFF     = var.forwarder_first_backoff
      FORWARDER_MAX_BACKOFF       = var.forwarder_max_backoff
      INGEST_DEDUPE_WINDOW        = var.ingest_dedupe_window
      MCM_TIMEOUT                 = var.mcm_timeout
      SECRETS_CACHE_TTL           = var.secrets_cache_ttl
    }
    verify = merge(local.verify_token_environment, {
      LEDGER_EVENT_TYPES       = join(",", var.ledger_event_types)
      LEDGER_TTL               = var.ledger_ttl
      SECRETS_CACHE_TTL        = var.secrets_cache_ttl
      VERIFY_ALLOWED_IPS       = join(",", var.verify_allowed_ips)
      VERIFY_CLIENT_IP_HEADER  = var.verify_client_ip_header
      VERIFY_FAILURE_BODY      = var.verify_failure_body
      VERIFY_FAILURE_STATUS    = tostring(var.verify_failure_status)
      VERIFY_FRESHNESS         = var.verify_freshness
      VERIFY_IDENTITY          = var.verify_identity
      VERIFY_LEDGER_DEADLINE   = var.verify_ledger_deadline
      VERIFY_LOOKUP_RETRY      = var.verify_lookup_retry
      VERIFY_MATCH_DEVICE_TIME = tostring(var.verify_match_device_time)
      VERIFY_MAX_BODY_BYTES    = tostring(var.verify_max_body_bytes)
      VERIFY_ORDER_ID_KEY      = var.verify_order_id_key
      VERIFY_SOURCES           = join(",", var.verify_sources)
      VERIFY_SUCCESS_BODY      = var.verify_success_body
      VERIFY_SUCCESS_STATUS    = tostring(var.verify_success_status)
      VERIFY_TIMEZONE          = var.verify_timezone
      VERIFY_TIME_TOLERANCE    = var.verify_time_tolerance
      VERIFY_TOKEN_HEADER      = var.verify_token_header
      VERIFY_TRUSTED_PROXIES   = tostring(var.verify_trusted_proxies)
    })
    backfill = {
      BACKFILL_ARCHIVE_LATENESS = var.backfill_archive_lateness
      BACKFILL_BATCH            = tostring(var.backfill_batch)
      MCM_TIMEOUT               = var.mcm_timeout
      SECRETS_CACHE_TTL         = var.secrets_cache_ttl
    }
  }
}
