# One source archive for all four functions: go.mod and the function package
# at its root; each function's entry_point picks what it serves.

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.labels

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "source" {
  # A new name per archive content, so a new build redeploys the functions.
  name   = "gcp-source-${filemd5(var.source_archive)}.zip"
  bucket = google_storage_bucket.source.name
  source = var.source_archive
}

locals {
  common_environment = {
    QUEUE_BACKEND   = "pubsub"
    SECRETS_BACKEND = "gcp"
    LOG_LEVEL       = var.log_level
  }

  pii_environment = merge(
    { PII_IP_POLICY = var.pii_ip_policy },
    var.pii_hash_fields == null ? {} : { PII_HASH_FIELDS = join(",", var.pii_hash_fields) },
  )

  ledger_environment = {
    LEDGER_BACKEND              = "firestore"
    GOOGLE_CLOUD_PROJECT        = var.project_id
    LEDGER_FIRESTORE_DATABASE   = local.firestore_database
    LEDGER_FIRESTORE_COLLECTION = var.ledger_collection
  }

  platform_environment = {
    MCM_BASE_URL       = var.mcm_base_url
    MCM_PLATFORM_ID    = var.mcm_platform_id
    MCM_API_KEY_SECRET = google_secret_manager_secret.secret["mcm_api_key"].id
  }

  # var.ingest.memory ("256Mi", "1Gi", "512M", "1G": its validation) in bytes.
  ingest_memory_bytes = tonumber(regex("^[0-9]+", var.ingest.memory)) * {
    Mi = 1048576, Gi = 1073741824, M = 1000000, G = 1000000000
  }[regex("[A-Za-z]+$", var.ingest.memory)]
  # Go's garbage collector for ingest, which allocates per event: collect at
  # 5x the live heap instead of 2x (GOGC), but keep the runtime's memory
  # under 3/8 of the instance's memory (GOMEMLIMIT, bytes; 96 MiB of 256 MB, which
  # held ingest's peak RSS near 110 MB in make bench-load), collecting as
  # often as that takes. docs/performance.md. extra_environment may override
  # both.
  ingest_gc_environment = {
    GOGC       = "400"
    GOMEMLIMIT = tostring(floor(local.ingest_memory_bytes * 3 / 8))
  }

  # Secret names are full resource names, projects/P/secrets/S; the code
  # reads their latest version.
  environment = {
    ingest = merge(local.common_environment, local.pii_environment, local.ledger_environment, local.attestation_environment, local.ingest_gc_environment, {
      PUBSUB_TOPIC               = google_pubsub_topic.events.id
      INGEST_API_KEYS_SECRET     = google_secret_manager_secret.secret["ingest_api_keys"].id
      INGEST_SIGNING_KEYS_SECRET = google_secret_manager_secret.secret["ingest_signing_keys"].id
      PII_SALT_SECRET            = google_secret_manager_secret.secret["pii_salt"].id
    }, local.governance_environment.ingest, local.settings_environment.ingest, lookup(var.extra_environment, "ingest", {}))

    forwarder = merge(local.common_environment, local.platform_environment, {
      DEADLETTER_TOPIC       = google_pubsub_topic.deadletter.id
      FORWARDER_MAX_ATTEMPTS = tostring(local.forwarder_max_attempts)
    }, local.governance_environment.forwarder, local.settings_environment.forwarder, lookup(var.extra_environment, "forwarder", {}))

    verify = merge(local.common_environment, local.pii_environment, local.ledger_environment, {
      DFINERY_KEYS_SECRET  = google_secret_manager_secret.secret["dfinery_keys"].id
      DFINERY_KEY_ENCODING = var.dfinery_key_encoding
      PII_SALT_SECRET      = google_secret_manager_secret.secret["pii_salt"].id
      VERIFY_EVENT_MAP     = var.verify_event_map
    }, local.settings_environment.verify, lookup(var.extra_environment, "verify", {}))

    backfill = merge(local.common_environment, local.platform_environment, {
      BACKFILL_SUBSCRIPTION = google_pubsub_subscription.deadletter.id
      # Spelled out: the subscription pushes to the forwarder, a function of
      # this same resource, so referring to it would be a cycle.
      BACKFILL_REPLAY_SUBSCRIPTION = "projects/${var.project_id}/subscriptions/${local.events_subscription_name}"
      DEADLETTER_TOPIC             = google_pubsub_topic.deadletter.id
      BACKFILL_TIME_BUDGET         = var.backfill_time_budget
      BACKFILL_RATE                = tostring(var.backfill_rate)
      # The archive replays read (archive.tf); empty: they are refused.
      BACKFILL_ARCHIVE = var.archive_enabled ? "gs://${one(google_storage_bucket.archive[*].name)}" : ""
    }, local.governance_environment.backfill, local.settings_environment.backfill, lookup(var.extra_environment, "backfill", {}))
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description
  labels      = var.labels

  build_config {
    runtime           = var.go_runtime
    entry_point       = each.value.entry_point
    service_account   = local.build_service_account
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = local.scaling[each.key].min_instances
    max_instance_count               = local.scaling[each.key].max_instances
    max_instance_request_concurrency = local.scaling[each.key].concurrency
    available_memory                 = local.scaling[each.key].memory
    available_cpu                    = local.scaling[each.key].cpu
    timeout_seconds                  = local.scaling[each.key].timeout_seconds
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.sa[each.key].email
    environment_variables            = local.environment[each.key]
  }

  # The build needs its grants. A new revision must start before the
  # deploy succeeds, and the start-up checks turn a missing permission into
  # a failed start: each function checks it may publish to its topic
  # (TestIamPermissions: ingest on events, the forwarder and backfill on
  # the dead-letter topic) and reads its secrets (the attestation keys
  # included), where anything but "no value yet" stops the start. So the
  # functions come after those grants and their propagation
  # (time_sleep.function_grants).
  depends_on = [
    google_project_service.api,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_writes_logs,
    time_sleep.function_grants,
  ]
}

# IAM grants take a while to hold everywhere (Google: typically 2 minutes,
# up to 7). The functions are created 60 s after their grants; their build
# (a minute or more) adds to that before the first instance starts. Every
# grant to a function's own account is here, the ones the start-up checks
# exercise and the ones its first requests need (the ledger, the erase
# keys, the dead-letter subscription), except backfill's Seek on the
# events subscription, which pushes to the forwarder and so comes after
# the functions (only a replay needs it). Needs hashicorp/time
# (versions.tf). The grants' ids in triggers replace the wait, so it is
# waited for again, when a grant is added.
resource "time_sleep" "function_grants" {
  create_duration = "60s"

  triggers = {
    grants = join(",", sort(concat(
      [for g in google_secret_manager_secret_iam_member.access : g.id],
      google_secret_manager_secret_iam_member.attest_credential_keys[*].id,
      google_secret_manager_secret_iam_member.ingest_reads_erase_keys[*].id,
      google_secret_manager_secret_iam_member.verify_reads_header_token[*].id,
      google_storage_bucket_iam_member.archive_backfill_reads[*].id,
      [
        google_pubsub_topic_iam_member.ingest_publishes_events.id,
        google_pubsub_topic_iam_member.forwarder_publishes_deadletter.id,
        google_pubsub_topic_iam_member.backfill_publishes_deadletter.id,
        google_pubsub_subscription_iam_member.backfill_drains_deadletter.id,
      ],
      [for g in google_project_iam_member.ledger : g.id],
      [for g in google_project_iam_member.suppressions : g.id],
    )))
  }
}
