# The GCP module's first-apply hazards as they stood at commit 22ca520
# (issue 24), on purpose: the checker must report every one of these.

terraform {
  required_providers {
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 7.0"
    }
  }
}

variable "project_id" {
  type        = string
  description = "project"
}

variable "name_prefix" {
  type        = string
  description = "prefix"
  default     = "eventrelay"
}

variable "firestore_database" {
  type        = string
  description = "database id, not derived from name_prefix"
  default     = "eventrelay-ledger"
}

resource "google_project_service" "api" {
  project = var.project_id
  service = "pubsub.googleapis.com"
}

# The agent's email straight from the identity: empty when the API's
# answer lacks it, and granted at once.
resource "google_project_service_identity" "agent" {
  provider   = google-beta
  project    = var.project_id
  service    = "pubsub.googleapis.com"
  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "events" {
  project = var.project_id
  name    = "${var.name_prefix}-events"
}

resource "google_pubsub_topic_iam_member" "agent_publishes" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.agent.email}"
}

resource "google_service_account" "sa" {
  project    = var.project_id
  account_id = "${var.name_prefix}-ingest"
}

# A grant the start-up check exercises, not waited for.
resource "google_pubsub_topic_iam_member" "ingest_publishes" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.sa.email}"
}

resource "google_cloudfunctions2_function" "fn" {
  project  = var.project_id
  location = "us-central1"
  name     = "${var.name_prefix}-ingest"

  service_config {
    service_account_email = google_service_account.sa.email
  }
}

# ABANDON by default, and a name that ignores name_prefix.
resource "google_firestore_database" "ledger" {
  project     = var.project_id
  name        = var.firestore_database
  location_id = "nam5"
  type        = "FIRESTORE_NATIVE"
}

resource "google_logging_metric" "errors" {
  project = var.project_id
  name    = "${var.name_prefix}/errors"
  filter  = "severity>=ERROR"
}

# Reads the metric created in the same apply, with no wait between.
resource "google_monitoring_alert_policy" "errors" {
  project      = var.project_id
  display_name = "${var.name_prefix}: errors"
  combiner     = "OR"

  conditions {
    display_name = "errors"
    condition_threshold {
      filter     = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.errors.name}\""
      comparison = "COMPARISON_GT"
      duration   = "0s"
    }
  }
}

# A wait that is unbounded, without the time provider declared.
resource "time_sleep" "forever" {
  create_duration = "2h"
}
