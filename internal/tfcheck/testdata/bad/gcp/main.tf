# Breaks the rules on purpose: the checker must report every one of these.

variable "project_id" {
  type = string
}

variable "untyped" {
  description = "no type"
  default     = "x"
}

variable "attempts" {
  type        = number
  description = "too few delivery attempts"
  default     = 3
}

resource "google_project_iam_member" "broad" {
  project = var.project_id
  role    = "roles/editor"
  member  = "serviceAccount:fn@example.iam.gserviceaccount.com"
}

resource "google_project_iam_member" "ledger" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:fn@example.iam.gserviceaccount.com"
}

resource "google_secret_manager_secret" "s" {
  secret_id = "s"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "v" {
  secret      = google_secret_manager_secret.s.id
  secret_data = "hunter2"
}

resource "google_service_account" "fn" {
  account_id = "fn"
}

resource "google_cloudfunctions2_function" "fn" {
  name     = "fn"
  location = "us-central1"

  build_config {
    runtime     = "go126"
    entry_point = "Nope"
    source {
      storage_source {
        bucket = "b"
        object = "o"
      }
    }
  }

  service_config {
    service_account_email = google_service_account.fn.email
    environment_variables = {
      QUEUE_BACKEND = "pubsub"
      PUBSUB_TOPICS = "typo"
    }
  }
}

resource "google_pubsub_topic" "events" {
  name = "events"
}

resource "google_pubsub_topic" "dead" {
  name = "dead"
}

resource "google_pubsub_subscription" "push" {
  name  = "push"
  topic = google_pubsub_topic.events.id

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn.service_config[0].uri
  }

  retry_policy {
    minimum_backoff = "1s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead.id
    max_delivery_attempts = var.attempts
  }
}

output "x" {
  description = "refers to nothing"
  value       = var.undeclared
}

locals {
  y = google_pubsub_topic.missing.id
}
