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

