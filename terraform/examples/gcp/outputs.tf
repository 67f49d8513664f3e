output "ingest_url" {
  description = "Where clients POST events."
  value       = module.eventrelay.ingest_url
}

output "verify_url" {
  description = "The URL to give DFINERY."
  value       = module.eventrelay.verify_url
}

output "events_topic" {
  description = "The events topic."
  value       = module.eventrelay.events_topic
}

output "events_subscription" {
  description = "The forwarder's push subscription."
  value       = module.eventrelay.events_subscription
}

output "deadletter_subscription" {
  description = "The dead-letter subscription backfill drains."
  value       = module.eventrelay.deadletter_subscription
}

output "service_accounts" {
  description = "Service accounts by identity."
  value       = module.eventrelay.service_accounts
}

output "secrets" {
  description = "Secret names to fill out of band."
  value       = module.eventrelay.secrets
}

output "backfill_run_command" {
  description = "Runs backfill now (gcloud)."
  value       = module.eventrelay.backfill_run_command
}
