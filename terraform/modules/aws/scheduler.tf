# EventBridge Scheduler runs backfill with a role that may invoke backfill
# and nothing else.

data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Account-wide name: with the region, as the functions' roles (iam.tf).
resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-scheduler-${data.aws_region.current.region}"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
  tags               = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeBackfill"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.fn["backfill"].arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name_prefix}-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# The schedule invokes asynchronously: no Lambda retries, the next run is
# the retry.
resource "aws_lambda_function_event_invoke_config" "backfill" {
  function_name          = aws_lambda_function.fn["backfill"].function_name
  maximum_retry_attempts = 0
}

resource "aws_scheduler_schedule" "backfill" {
  name        = "${var.name_prefix}-backfill"
  description = "Resends dead-lettered eventrelay events"

  schedule_expression = var.backfill_schedule

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.fn["backfill"].arn
    role_arn = aws_iam_role.scheduler.arn
    # The run's parameters; {} resends retryable failures. Backfill refuses
    # unknown fields, so nothing else goes here.
    input = jsonencode({})

    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 300
    }
  }

  lifecycle {
    precondition {
      condition     = local.backfill_budget_seconds + 20 <= var.backfill.timeout_seconds
      error_message = "backfill_time_budget + 20 s must fit in backfill.timeout_seconds, or runs are cut off mid-send."
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
