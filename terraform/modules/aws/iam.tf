# Least privilege: one role per function; every statement names the exact
# ARNs it applies to (no "*" action or resource).

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# IAM role names are account-wide while everything else here is regional:
# the region in the name lets the same name_prefix deploy in a second
# region. Created before the old one is destroyed, so a rename never
# leaves a function with a deleted role.
resource "aws_iam_role" "fn" {
  for_each = local.functions

  name               = "${var.name_prefix}-${each.key}-${data.aws_region.current.region}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["ingest"].arn}:*"]
  }

  # To the events queue, or with the archive to the events topic only,
  # which fans out to the queue and the archive (archive.tf). Get*Attributes:
  # the check at start that the queue or topic exists.
  statement {
    sid       = "PublishEvents"
    actions   = var.archive_enabled ? ["sns:Publish", "sns:GetTopicAttributes"] : ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = var.archive_enabled ? aws_sns_topic.events[*].arn : [aws_sqs_queue.events.arn]
  }

  statement {
    sid     = "ReadOwnSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.secret["ingest_api_keys"].arn,
      aws_secretsmanager_secret.secret["ingest_signing_keys"].arn,
      aws_secretsmanager_secret.secret["pii_salt"].arn,
    ]
  }

  statement {
    sid       = "RecordLedger"
    actions   = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

data "aws_iam_policy_document" "forwarder" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["forwarder"].arn}:*"]
  }

  # The event source mapping receives and deletes with the function's role;
  # the forwarder changes visibility to space its retries.
  statement {
    sid = "ConsumeEvents"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.events.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.deadletter.arn]
  }

  statement {
    sid       = "ReadPlatformKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.secret["mcm_api_key"].arn]
  }
}

data "aws_iam_policy_document" "verify" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["verify"].arn}:*"]
  }

  statement {
    sid     = "ReadOwnSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.secret["dfinery_keys"].arn,
      aws_secretsmanager_secret.secret["pii_salt"].arn,
    ]
  }

  # PutItem: its verdicts and claims, conditional writes.
  statement {
    sid       = "ReadLedgerWriteVerdicts"
    actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

data "aws_iam_policy_document" "backfill" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["backfill"].arn}:*"]
  }

  # Drains the dead-letter queue and re-parks what still fails.
  statement {
    sid = "DrainDeadLetter"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:SendMessage",
    ]
    resources = [aws_sqs_queue.deadletter.arn]
  }

  statement {
    sid       = "ReadPlatformKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.secret["mcm_api_key"].arn]
  }
}

locals {
  policies = {
    ingest    = data.aws_iam_policy_document.ingest.json
    forwarder = data.aws_iam_policy_document.forwarder.json
    verify    = data.aws_iam_policy_document.verify.json
    backfill  = data.aws_iam_policy_document.backfill.json
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.functions

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.fn[each.key].id
  policy = local.policies[each.key]
}
