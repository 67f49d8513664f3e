# The events queue, its dead-letter queue, and the mapping that feeds the
# forwarder in batches and takes back only the messages that failed.

resource "aws_sqs_queue" "deadletter" {
  name                      = "${var.name_prefix}-deadletter"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  # backfill receives, resends and deletes; a run holds messages this long.
  visibility_timeout_seconds = var.backfill.timeout_seconds
  tags                       = var.tags
}

resource "aws_sqs_queue" "events" {
  name                       = "${var.name_prefix}-events"
  visibility_timeout_seconds = local.queue_visibility_timeout
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.deadletter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.queue_visibility_timeout >= local.min_visibility_timeout
      error_message = "queue_visibility_timeout_seconds must be at least 6 x forwarder.timeout_seconds + maximum_batching_window_in_seconds, or batches still running are delivered twice."
    }
  }
}

# Only the events queue may dead-letter into the dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "deadletter" {
  queue_url = aws_sqs_queue.deadletter.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.events.arn]
  })
}

resource "aws_lambda_event_source_mapping" "forwarder" {
  event_source_arn                   = aws_sqs_queue.events.arn
  function_name                      = aws_lambda_function.fn["forwarder"].arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds

  # The forwarder returns the ids of the messages to retry; without this
  # the answer is ignored and a nil error deletes the whole batch.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.forwarder_maximum_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
      error_message = "batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
    }
  }

  depends_on = [aws_iam_role_policy.fn]
}
