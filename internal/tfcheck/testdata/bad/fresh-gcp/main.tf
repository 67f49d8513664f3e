# What failed a first apply on a fresh project, on purpose: the checker must
# report every one of these.

terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
  }
}

variable "project_id" {
  type        = string
  description = "project"
}

variable "build_service_account" {
  type        = string
  description = "build account"
  default     = null
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "api" {
  for_each = toset(["cloudfunctions.googleapis.com", "pubsub.googleapis.com"])

  project = var.project_id
  service = each.value
}

resource "google_project_service_identity" "agent" {
  project = var.project_id
  service = "cloudscheduler.googleapis.com"
}

resource "google_pubsub_topic" "events" {
  project = var.project_id
  name    = "events"
}

resource "google_pubsub_subscription" "events" {
  project = var.project_id
  name    = "events"
  topic   = google_pubsub_topic.events.id
}

resource "google_service_account" "backfill" {
  project    = var.project_id
  account_id = "backfill"
}

resource "google_pubsub_subscription_iam_member" "seek" {
  project      = var.project_id
  subscription = google_pubsub_subscription.events.name
  role         = "roles/pubsub.editor"
  member       = "serviceAccount:${google_service_account.backfill.email}"
}

resource "google_pubsub_topic_iam_member" "agent" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_cloudfunctions2_function" "fn" {
  project  = var.project_id
  location = "europe-west1"
  name     = "fn"

  build_config {
    runtime         = "go125"
    entry_point     = "Backfill"
    service_account = var.build_service_account
  }
}

resource "google_cloud_scheduler_job" "backfill" {
  project = var.project_id
  name    = "backfill"

  http_target {
    uri = google_cloudfunctions2_function.fn.url
  }
}

output "scheduler_job" {
  description = "The job, but no command that runs it."
  value       = google_cloud_scheduler_job.backfill.id
}
