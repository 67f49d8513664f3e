output "ingest_url" {
  description = "Where clients POST events."
  value       = module.eventrelay.ingest_url
}

output "verify_url" {
  description = "The URL to give DFINERY."
  value       = module.eventrelay.verify_url
}

output "events_queue_url" {
  description = "The events queue."
  value       = module.eventrelay.events_queue_url
}

output "deadletter_queue_url" {
  description = "The dead-letter queue."
  value       = module.eventrelay.deadletter_queue_url
}

output "function_names" {
  description = "Lambda function names."
  value       = module.eventrelay.function_names
}

output "log_groups" {
  description = "CloudWatch log groups."
  value       = module.eventrelay.log_groups
}

output "secret_names" {
  description = "Secret names to fill out of band."
  value       = module.eventrelay.secret_names
}

output "backfill_invoke_command" {
  description = "Runs backfill now (aws CLI)."
  value       = module.eventrelay.backfill_invoke_command
}
