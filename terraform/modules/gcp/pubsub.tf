# Events topic, the forwarder's push subscription (retry backoff, dead
# letter, replay retention) and the dead-letter topic with the pull
# subscription backfill drains.

resource "google_pubsub_topic" "events" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-events"
  labels                     = var.labels
  message_retention_duration = "${var.message_retention_seconds}s"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "deadletter" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-deadletter"
  labels                     = var.labels
  message_retention_duration = "604800s"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_subscription" "events" {
  project = var.project_id
  name    = local.events_subscription_name
  topic   = google_pubsub_topic.events.id
  labels  = var.labels

  # A push lasts at most the ack deadline; the forwarder answers within it.
  ack_deadline_seconds = var.ack_deadline_seconds

  # Keep acknowledged messages so backfill can seek back and replay.
  retain_acked_messages      = true
  message_retention_duration = "${var.message_retention_seconds}s"

  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn["forwarder"].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.sa["push"].email
      audience              = google_cloudfunctions2_function.fn["forwarder"].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = local.retry_minimum_backoff
    maximum_backoff = local.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.deadletter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  lifecycle {
    precondition {
      condition     = var.forwarder.timeout_seconds <= var.ack_deadline_seconds
      error_message = "forwarder.timeout_seconds must not exceed ack_deadline_seconds: Pub/Sub would redeliver a message the forwarder is still sending."
    }
  }

  # Without these grants dead-lettering fails, and pushes are refused.
  depends_on = [
    google_pubsub_topic_iam_member.agent_publishes_deadletter,
    google_cloud_run_v2_service_iam_member.push_invokes_forwarder,
  ]
}

resource "google_pubsub_subscription" "deadletter" {
  project = var.project_id
  name    = "${var.name_prefix}-deadletter-backfill"
  topic   = google_pubsub_topic.deadletter.id
  labels  = var.labels

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}
