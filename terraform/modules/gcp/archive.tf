# The customer's own archive of every accepted event (docs/backfill.md,
# "Replay from the archive"; docs/data-governance.md, "The archive"): a
# Pub/Sub Cloud Storage subscription on the events topic writes each
# message, as ingest queued it, into a bucket this module creates, in Avro
# with the message's metadata (id, publish time, attributes), under
# events/YYYY-MM-DD/. Nothing in the functions writes it. The bucket's
# lifecycle deletes a file archive_retention_days after it was written.
#
# Off by default: it keeps a second copy of every pseudonymised event for
# its retention, a data-governance choice (how long, against
# ERASE_RETENTION) the deployer makes, and it costs storage and one object
# write per file (a file per 5 min or 10 MB, whichever comes first).
# Backfill replays a window from it: BACKFILL_ARCHIVE is gs://<this
# bucket> (functions.tf), read with roles/storage.objectViewer below.

resource "google_storage_bucket" "archive" {
  count = var.archive_enabled ? 1 : 0

  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-archive"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels

  lifecycle_rule {
    condition {
      age = var.archive_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

# The Pub/Sub service agent writes the files: it creates objects and reads
# the bucket's metadata (the two roles the Cloud Storage subscription
# needs), on this bucket only.
resource "google_storage_bucket_iam_member" "archive_agent_creates" {
  count  = var.archive_enabled ? 1 : 0
  bucket = google_storage_bucket.archive[0].name
  role   = "roles/storage.objectCreator"
  member = local.pubsub_agent
}

resource "google_storage_bucket_iam_member" "archive_agent_reads_bucket" {
  count  = var.archive_enabled ? 1 : 0
  bucket = google_storage_bucket.archive[0].name
  role   = "roles/storage.legacyBucketReader"
  member = local.pubsub_agent
}

# Backfill reads the files for a replay, and nothing else of the bucket.
resource "google_storage_bucket_iam_member" "archive_backfill_reads" {
  count  = var.archive_enabled ? 1 : 0
  bucket = google_storage_bucket.archive[0].name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.sa["backfill"].email}"
}

resource "google_pubsub_subscription" "archive" {
  count = var.archive_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.name_prefix}-events-archive"
  topic   = google_pubsub_topic.events.id
  labels  = var.labels

  # Messages wait here while a write fails (the alert below), up to the
  # topic's retention.
  message_retention_duration = "${var.message_retention_seconds}s"

  cloud_storage_config {
    bucket = google_storage_bucket.archive[0].name
    # shared/archive reads these names: Prefix, DatetimeFormat, Suffix.
    filename_prefix          = "events/"
    filename_datetime_format = "YYYY-MM-DD/hh_mm_ssZ"
    filename_suffix          = ".avro"
    max_duration             = "300s"
    max_bytes                = 10485760
    avro_config {
      write_metadata = true
    }
  }

  depends_on = [
    google_storage_bucket_iam_member.archive_agent_creates,
    google_storage_bucket_iam_member.archive_agent_reads_bucket,
  ]
}

# A write that fails (a permission removed, the bucket gone) leaves the
# subscription's messages unacknowledged: their age grows past a file's
# span.
resource "google_monitoring_alert_policy" "archive_writes" {
  count = var.archive_enabled ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name_prefix}: archive writes failing"
  combiner              = "OR"
  enabled               = var.alerts_enabled
  notification_channels = local.alert_channels

  conditions {
    display_name = "the archive subscription's oldest message is over 30 minutes old"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.archive[0].name}\" AND metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1800
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The Cloud Storage subscription cannot write the archive (its state and the bucket's IAM say why); events wait in it up to message_retention_seconds. docs/operations.md: archive writes failing."
  }
}
