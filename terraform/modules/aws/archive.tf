# The customer's own archive of every accepted event (docs/backfill.md,
# "Replay from the archive"; docs/data-governance.md, "The archive"), off by
# default (archive_enabled). On, ingest publishes to an SNS standard topic
# instead of the events queue, and the topic fans the message out:
#
#   - to the events queue, with raw message delivery: the forwarder reads
#     the body and the attributes exactly as ingest sent them to SQS before;
#   - to Kinesis Data Firehose, which batches the messages into the archive
#     bucket. That subscription keeps SNS's JSON envelope (raw delivery
#     off): it carries the message's attributes, which replay needs.
#
# Nothing in the functions writes the archive; backfill reads it
# (BACKFILL_ARCHIVE).
#
# The topic is not encrypted with KMS: the queues use SQS-managed
# encryption, not KMS, and SNS keeps a message only until it has handed it
# to the queue and to Firehose, which both encrypt at rest (as does the
# bucket). A KMS key would add a key request per publish and a grant the
# publisher needs, for a copy held for seconds. tfcheck holds the topic to
# the queue's choice (a KMS queue makes a KMS topic).

resource "aws_sns_topic" "events" {
  count = var.archive_enabled ? 1 : 0

  name = "${var.name_prefix}-events"
  tags = var.tags
}

# SNS may send to the events queue, and only from this topic.
data "aws_iam_policy_document" "events_queue_from_topic" {
  count = var.archive_enabled ? 1 : 0

  statement {
    sid       = "EventsTopicSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.events[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events_from_topic" {
  count = var.archive_enabled ? 1 : 0

  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.events_queue_from_topic[0].json
}

# Raw delivery: the queue gets the body, and the message attributes as SQS
# message attributes, as ingest published them; without it the forwarder
# would read SNS's JSON envelope as the event.
resource "aws_sns_topic_subscription" "events_queue" {
  count = var.archive_enabled ? 1 : 0

  topic_arn            = aws_sns_topic.events[0].arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.events.arn
  raw_message_delivery = true

  # The queue accepts the topic's messages before the first one is sent.
  depends_on = [aws_sqs_queue_policy.events_from_topic]
}


# ---- The copy: SNS -> Kinesis Data Firehose -> S3 -----------------------------

locals {
  # Bucket names are global: the account and region make the module's own
  # unique, as the IAM role names carry the region.
  archive_bucket = "${var.name_prefix}-archive-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.region}"
}

resource "aws_s3_bucket" "archive" {
  count = var.archive_enabled ? 1 : 0

  bucket = local.archive_bucket
  tags   = var.tags

  lifecycle {
    precondition {
      condition     = length(local.archive_bucket) <= 63
      error_message = "The archive bucket's name (<name_prefix>-archive-<account>-<region>) is over S3's 63 characters: shorten name_prefix."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  count = var.archive_enabled ? 1 : 0

  bucket                  = aws_s3_bucket.archive[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: the bucket's policy and the roles below are the only grants.
resource "aws_s3_bucket_ownership_controls" "archive" {
  count = var.archive_enabled ? 1 : 0

  bucket = aws_s3_bucket.archive[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  count = var.archive_enabled ? 1 : 0

  bucket = aws_s3_bucket.archive[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Retention: every object, the archive's and the failed deliveries' under
# errors/, is deleted archive_retention_days after it was written.
# Versioning stays off (never enabled here): with it, an expiration would
# only hide an object behind a delete marker and keep its data.
resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  count = var.archive_enabled ? 1 : 0

  bucket = aws_s3_bucket.archive[0].id

  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    expiration {
      days = var.archive_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Firehose's delivery errors (a bucket gone, a permission removed).
resource "aws_cloudwatch_log_group" "archive" {
  count = var.archive_enabled ? 1 : 0

  name              = "/aws/kinesisfirehose/${var.name_prefix}-archive"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "archive" {
  count = var.archive_enabled ? 1 : 0

  name           = "${var.name_prefix}-archive-delivery"
  log_group_name = aws_cloudwatch_log_group.archive[0].name
}

# Firehose writes the bucket with this role: what its documentation lists
# for an S3 destination, on this bucket only, and its own log stream.
data "aws_iam_policy_document" "assume_firehose" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "archive_firehose" {
  count = var.archive_enabled ? 1 : 0

  name               = "${var.name_prefix}-firehose-${data.aws_region.current.region}"
  assume_role_policy = data.aws_iam_policy_document.assume_firehose.json
  tags               = var.tags
}

data "aws_iam_policy_document" "archive_firehose" {
  count = var.archive_enabled ? 1 : 0

  statement {
    sid       = "WriteArchiveObjects"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.archive[0].arn}/*"]
  }

  statement {
    sid       = "FindArchiveBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [aws_s3_bucket.archive[0].arn]
  }

  statement {
    sid       = "LogDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = [aws_cloudwatch_log_stream.archive[0].arn]
  }
}

resource "aws_iam_role_policy" "archive_firehose" {
  count = var.archive_enabled ? 1 : 0

  name   = "${var.name_prefix}-archive-firehose"
  role   = aws_iam_role.archive_firehose[0].id
  policy = data.aws_iam_policy_document.archive_firehose[0].json
}

# Buffering: a file when 64 MB have come in or 300 s have passed, whichever
# is first. An event is replayable at most about five minutes after ingest
# accepted it, which no replay needs sooner (a gap is noticed hours or days
# later), while a shorter interval only multiplies the objects: S3 requests
# when writing and when a replay lists and reads a window. 300 s is also
# the GCP archive's file span (its max_duration); 64 MB (before
# compression) keeps a busy deployment to a file every few seconds at most
# instead of one per MB.
resource "aws_kinesis_firehose_delivery_stream" "archive" {
  count = var.archive_enabled ? 1 : 0

  name        = "${var.name_prefix}-archive"
  destination = "extended_s3"
  tags        = var.tags

  # SNS puts records directly (no Kinesis source): encrypted at rest with
  # an AWS-owned key while buffered.
  server_side_encryption {
    enabled  = true
    key_type = "AWS_OWNED_CMK"
  }

  extended_s3_configuration {
    role_arn   = aws_iam_role.archive_firehose[0].arn
    bucket_arn = aws_s3_bucket.archive[0].arn

    # shared/archive reads these names. A day's files under one prefix list
    # a window without the whole bucket; the day is UTC, of the oldest
    # record's arrival at Firehose.
    prefix              = "events/!{timestamp:yyyy-MM-dd}/"
    error_output_prefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"
    custom_time_zone    = "UTC"
    compression_format  = "GZIP"
    file_extension      = ".gz"

    buffering_size     = 64
    buffering_interval = 300

    # One SNS envelope (JSON) per line: Firehose concatenates records as
    # they come, without a separator, unless told.
    processing_configuration {
      enabled = true

      processors {
        type = "AppendDelimiterToRecord"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.archive[0].name
      log_stream_name = aws_cloudwatch_log_stream.archive[0].name
    }
  }

  depends_on = [aws_iam_role_policy.archive_firehose]
}

# SNS puts the topic's messages into the stream with this role, which may
# do only that, on this stream (and describe it, as SNS's documentation
# asks of a Firehose subscription's role).
data "aws_iam_policy_document" "assume_sns" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "archive_subscription" {
  count = var.archive_enabled ? 1 : 0

  name               = "${var.name_prefix}-sns-archive-${data.aws_region.current.region}"
  assume_role_policy = data.aws_iam_policy_document.assume_sns.json
  tags               = var.tags
}

data "aws_iam_policy_document" "archive_subscription" {
  count = var.archive_enabled ? 1 : 0

  statement {
    sid       = "PutIntoArchiveStream"
    actions   = ["firehose:DescribeDeliveryStream", "firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [aws_kinesis_firehose_delivery_stream.archive[0].arn]
  }
}

resource "aws_iam_role_policy" "archive_subscription" {
  count = var.archive_enabled ? 1 : 0

  name   = "${var.name_prefix}-sns-archive"
  role   = aws_iam_role.archive_subscription[0].id
  policy = data.aws_iam_policy_document.archive_subscription[0].json
}

# Raw delivery off: the record is SNS's JSON envelope, which carries the
# message's attributes (the ingest source an event's id is scoped to)
# beside the body; raw delivery to Firehose would keep the body only.
resource "aws_sns_topic_subscription" "archive" {
  count = var.archive_enabled ? 1 : 0

  topic_arn             = aws_sns_topic.events[0].arn
  protocol              = "firehose"
  endpoint              = aws_kinesis_firehose_delivery_stream.archive[0].arn
  subscription_role_arn = aws_iam_role.archive_subscription[0].arn
  raw_message_delivery  = false

  depends_on = [aws_iam_role_policy.archive_subscription]
}

locals {
  # Per function, merged into its environment in main.tf.
  archive_environment = {
    ingest   = var.archive_enabled ? { SNS_TOPIC_ARN = aws_sns_topic.events[0].arn } : {}
    backfill = var.archive_enabled ? { BACKFILL_ARCHIVE = "s3://${aws_s3_bucket.archive[0].bucket}" } : {}
  }
}

# ---- Alerts: the archive not being written ------------------------------------

# name => what it watches; each notifies the module's alarm topic like the
# others (monitoring.tf). DeliveryToS3.Success is the share of records
# delivered (1 when all were), DataFreshness the age of the oldest record
# Firehose still holds; SNS counts a message as failed for a subscription
# only once it stops retrying it (the queue's or the stream's), and has no
# per-subscription metric, so the topic's count covers both.
locals {
  archive_alarms = {
    archive_delivery = {
      description = "Firehose failed to write archive records to the bucket in 5 min (DeliveryToS3.Success below 1): a permission removed or the bucket gone; its log group /aws/kinesisfirehose/${var.name_prefix}-archive says why. Firehose retries for up to 24 h. docs/operations.md: archive writes failing."
      namespace   = "AWS/Firehose"
      metric      = "DeliveryToS3.Success"
      dimensions  = { DeliveryStreamName = "${var.name_prefix}-archive" }
      statistic   = "Minimum"
      comparison  = "LessThanThreshold"
      threshold   = 1
    }
    archive_freshness = {
      description = "The oldest record waiting in the archive's Firehose stream is over 30 min old (DeliveryToS3.DataFreshness): the archive is not being written. docs/operations.md: archive writes failing."
      namespace   = "AWS/Firehose"
      metric      = "DeliveryToS3.DataFreshness"
      dimensions  = { DeliveryStreamName = "${var.name_prefix}-archive" }
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 1800
    }
    archive_fanout = {
      description = "SNS gave up delivering messages of the events topic (NumberOfNotificationsFailed): to the events queue (events the forwarder never gets) or to the archive's stream. docs/operations.md: archive writes failing."
      namespace   = "AWS/SNS"
      metric      = "NumberOfNotificationsFailed"
      dimensions  = { TopicName = "${var.name_prefix}-events" }
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "archive" {
  for_each = var.archive_enabled ? local.archive_alarms : {}

  alarm_name          = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  # No data: nothing was published, so nothing failed.
  treat_missing_data = "notBreaching"
  actions_enabled    = var.alarms_enabled
  alarm_actions      = [local.alarm_topic]
  ok_actions         = [local.alarm_topic]
  tags               = var.tags

  depends_on = [aws_kinesis_firehose_delivery_stream.archive, aws_sns_topic.events]
}

# Backfill replays from the archive: it lists a window's day folders and
# reads their objects, under events/ only (not the failed deliveries), and
# can change nothing.
data "aws_iam_policy_document" "backfill_archive" {
  count = var.archive_enabled ? 1 : 0

  statement {
    sid       = "ListArchiveDays"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.archive[0].arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["events/*"]
    }
  }

  statement {
    sid       = "ReadArchiveObjects"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.archive[0].arn}/events/*"]
  }
}

resource "aws_iam_role_policy" "backfill_archive" {
  count = var.archive_enabled ? 1 : 0

  name   = "${var.name_prefix}-backfill-archive"
  role   = aws_iam_role.fn["backfill"].id
  policy = data.aws_iam_policy_document.backfill_archive[0].json
}
