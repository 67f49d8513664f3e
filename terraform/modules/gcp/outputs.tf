output "ingest_url" {
  description = "Where clients POST events."
  value       = google_cloudfunctions2_function.fn["ingest"].url
}

output "verify_url" {
  description = "The URL to give DFINERY for verification callbacks."
  value       = google_cloudfunctions2_function.fn["verify"].url
}

output "forwarder_url" {
  description = "The forwarder's push endpoint (internal ingress; Pub/Sub only)."
  value       = google_cloudfunctions2_function.fn["forwarder"].service_config[0].uri
}

output "events_topic" {
  description = "The events topic, projects/P/topics/T."
  value       = google_pubsub_topic.events.id
}

output "events_subscription" {
  description = "The forwarder's push subscription, projects/P/subscriptions/S."
  value       = google_pubsub_subscription.events.id
}

output "deadletter_topic" {
  description = "The dead-letter topic."
  value       = google_pubsub_topic.deadletter.id
}

output "deadletter_subscription" {
  description = "The dead-letter pull subscription backfill drains."
  value       = google_pubsub_subscription.deadletter.id
}

output "service_accounts" {
  description = "Service account emails by identity (ingest, forwarder, verify, backfill, push, scheduler)."
  value       = { for k, sa in google_service_account.sa : k => sa.email }
}

output "secrets" {
  description = "Secret resource names by purpose; add their values out of band."
  value       = { for k, s in google_secret_manager_secret.secret : k => s.id }
}

output "function_names" {
  description = "Function names by role."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.name }
}

output "scheduler_job" {
  description = "The Cloud Scheduler job running backfill."
  value       = google_cloud_scheduler_job.backfill.id
}

output "backfill_run_command" {
  description = "Runs backfill now with its default parameters (backfill's ingress is internal: Cloud Scheduler reaches it, a laptop does not)."
  value       = "gcloud scheduler jobs run ${google_cloud_scheduler_job.backfill.name} --project ${var.project_id} --location ${var.region}"
}

output "archive_bucket" {
  description = "The archive's bucket (empty when archive_enabled is false)."
  value       = one(google_storage_bucket.archive[*].name)
}
