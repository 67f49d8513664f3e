output "ingest_url" {
  description = "Where clients POST events (Function URL)."
  value       = aws_lambda_function_url.public["ingest"].function_url
}

output "verify_url" {
  description = "The URL to give DFINERY for verification callbacks (Function URL)."
  value       = aws_lambda_function_url.public["verify"].function_url
}

output "events_queue_url" {
  description = "The events queue."
  value       = aws_sqs_queue.events.url
}

output "deadletter_queue_url" {
  description = "The dead-letter queue backfill drains."
  value       = aws_sqs_queue.deadletter.url
}

output "function_names" {
  description = "Lambda function names by role."
  value       = { for k, f in aws_lambda_function.fn : k => f.function_name }
}

output "log_groups" {
  description = "CloudWatch log groups by function."
  value       = { for k, g in aws_cloudwatch_log_group.fn : k => g.name }
}

output "secrets" {
  description = "Secret ARNs by purpose; add their values out of band."
  value       = { for k, s in aws_secretsmanager_secret.secret : k => s.arn }
}

output "secret_names" {
  description = "Secret names by purpose (for the aws CLI)."
  value       = { for k, s in aws_secretsmanager_secret.secret : k => s.name }
}

output "ledger_table" {
  description = "The DynamoDB ledger table."
  value       = aws_dynamodb_table.ledger.name
}

output "role_arns" {
  description = "IAM role ARNs by function, and the scheduler's."
  value       = merge({ for k, r in aws_iam_role.fn : k => r.arn }, { scheduler = aws_iam_role.scheduler.arn })
}

output "backfill_invoke_command" {
  description = "Runs backfill now and prints its summary; the payload is the run's parameters ({} resends retryable failures)."
  value       = "aws lambda invoke --region ${split(":", aws_lambda_function.fn["backfill"].arn)[3]} --function-name ${aws_lambda_function.fn["backfill"].function_name} --cli-binary-format raw-in-base64-out --payload '{}' /dev/stdout"
}
