# Least privilege: every grant names one resource (a topic, a subscription,
# a secret, a function's service). The one exception is the ledger, below.

# Functions read only their own secrets.
resource "google_secret_manager_secret_iam_member" "access" {
  for_each = local.secret_access

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.sa[each.value.fn].email}"
}

# ingest publishes events.
resource "google_pubsub_topic_iam_member" "ingest_publishes_events" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.sa["ingest"].email}"
}

# The forwarder dead-letters permanent failures itself, with a reason.
resource "google_pubsub_topic_iam_member" "forwarder_publishes_deadletter" {
  project = var.project_id
  topic   = google_pubsub_topic.deadletter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.sa["forwarder"].email}"
}

# backfill drains the dead-letter subscription and re-parks what still fails.
resource "google_pubsub_subscription_iam_member" "backfill_drains_deadletter" {
  project      = var.project_id
  subscription = google_pubsub_subscription.deadletter.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.sa["backfill"].email}"
}

resource "google_pubsub_topic_iam_member" "backfill_publishes_deadletter" {
  project = var.project_id
  topic   = google_pubsub_topic.deadletter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.sa["backfill"].email}"
}

# Replay (BACKFILL_REPLAY_SUBSCRIPTION) seeks the live events subscription
# back in time. Seek needs pubsub.subscriptions.consume on the subscription
# (Pub/Sub access control), and nothing else the backfill calls touches it.
# roles/pubsub.editor, which Google's replay guide grants, would also let
# backfill repoint the push endpoint (pubsub.subscriptions.update) or
# delete the subscription; a custom role with the one permission does not.
resource "google_project_iam_custom_role" "seek" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_seek"
  title       = "eventrelay backfill replay (Seek)"
  description = "Seek one subscription back in time; nothing else"
  permissions = ["pubsub.subscriptions.consume"]

  depends_on = [google_project_service.api]
}

resource "google_pubsub_subscription_iam_member" "backfill_seeks_events" {
  project      = var.project_id
  subscription = google_pubsub_subscription.events.name
  role         = google_project_iam_custom_role.seek.id
  member       = "serviceAccount:${google_service_account.sa["backfill"].email}"
}

# The Pub/Sub service agent forwards undeliverable messages: it publishes to
# the dead-letter topic and acknowledges them on the events subscription.
resource "google_pubsub_topic_iam_member" "agent_publishes_deadletter" {
  project = var.project_id
  topic   = google_pubsub_topic.deadletter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "agent_subscribes_events" {
  project      = var.project_id
  subscription = google_pubsub_subscription.events.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The service agents mint OIDC tokens for the push and scheduler accounts
# (granted on those accounts only).
resource "google_service_account_iam_member" "agent_signs_for_push" {
  service_account_id = google_service_account.sa["push"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_service_account_iam_member" "scheduler_agent_signs_for_scheduler" {
  service_account_id = google_service_account.sa["scheduler"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.scheduler_agent
}

# Invokers, each on one function's Cloud Run service.
resource "google_cloud_run_v2_service_iam_member" "push_invokes_forwarder" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["forwarder"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.sa["push"].email}"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_backfill" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["backfill"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.sa["scheduler"].email}"
}

# ingest and verify authenticate every request themselves (API keys,
# signatures, DFINERY's ABX-HASH): the public may call those two only.
resource "google_cloud_run_v2_service_iam_member" "public_ingest" {
  count = var.public_ingest ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["ingest"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "public_verify" {
  count = var.public_verify ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["verify"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The ledger. Firestore has no IAM binding on a database resource, so this
# is the one project-level grant, and it is unavoidable: an IAM condition
# restricts it to the ledger database. ingest writes entries, verify writes
# its verdicts and claims (both datastore.user).
locals {
  ledger_roles = {
    ingest = "roles/datastore.user"
    verify = "roles/datastore.user"
  }
}

resource "google_project_iam_member" "ledger" {
  for_each = local.ledger_roles

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.sa[each.key].email}"

  depends_on = [google_project_service.api]

  condition {
    title       = "${var.name_prefix}-ledger-only"
    description = "Only the eventrelay ledger database"
    expression  = "resource.name == \"projects/${var.project_id}/databases/${local.firestore_database}\""
  }
}
