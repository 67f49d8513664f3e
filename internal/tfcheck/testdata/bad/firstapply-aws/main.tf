# The AWS module's first-apply hazards as they stood at commit 22ca520
# (issue 24), on purpose: the checker must report every one of these.

variable "name_prefix" {
  type        = string
  description = "prefix"
  default     = "eventrelay"
}

variable "forwarder_maximum_concurrency" {
  type        = number
  description = "the whole quota of a new account"
  default     = 10
}

# Account-wide names without the region.
resource "aws_iam_role" "fn" {
  name               = "${var.name_prefix}-ingest"
  assume_role_policy = "{}"
}

resource "aws_cloudwatch_dashboard" "funnel" {
  dashboard_name = "${var.name_prefix}-funnel"
  dashboard_body = "{}"
}

resource "aws_iam_role_policy" "fn" {
  name   = "${var.name_prefix}-ingest"
  role   = aws_iam_role.fn.id
  policy = "{}"
}

# A second policy of the same role the function does not wait for.
resource "aws_iam_role_policy" "erase_keys" {
  name   = "${var.name_prefix}-ingest-erase-keys"
  role   = aws_iam_role.fn.id
  policy = "{}"
}

resource "aws_lambda_function" "fn" {
  function_name = "${var.name_prefix}-ingest"
  role          = aws_iam_role.fn.arn
  runtime       = "provided.al2023"
  architectures = ["arm64"]
  handler       = "bootstrap"

  depends_on = [aws_iam_role_policy.fn]
}

resource "aws_sqs_queue" "events" {
  name = "${var.name_prefix}-events"
}

resource "aws_lambda_event_source_mapping" "forwarder" {
  event_source_arn        = aws_sqs_queue.events.arn
  function_name           = aws_lambda_function.fn.arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.forwarder_maximum_concurrency
  }
}

resource "aws_scheduler_schedule" "backfill" {
  name                = "${var.name_prefix}-backfill"
  schedule_expression = "rate(15 minutes)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.fn.arn
    role_arn = aws_iam_role.fn.arn
  }
}
