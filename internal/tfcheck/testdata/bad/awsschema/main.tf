# Breaks the AWS provider's documented schema on purpose (awsschema.go): the
# checker must report every one of these.

resource "aws_sqs_queue" "q" {
  name = "q"
}

resource "aws_sns_topic" "t" {
  name             = "t"
  kms_master_keyid = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "to_firehose" {
  topic_arn            = aws_sns_topic.t.arn
  protocol             = "firehose"
  endpoint             = aws_kinesis_firehose_delivery_stream.no_config.arn
  raw_message_delivry = false
}

resource "aws_sns_topic_subscription" "to_queue" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.q.url
}

resource "aws_sns_topic_subscription" "to_stream" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "kinesis"
  endpoint  = aws_sqs_queue.q.arn
}

resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.id
}

resource "aws_kinesis_firehose_delivery_stream" "no_config" {
  name        = "no-config"
  destination = "extended_s3"
}

resource "aws_kinesis_firehose_delivery_stream" "old_style" {
  name        = "old-style"
  destination = "s3"

  s3_configuration {
    role_arn   = "arn:aws:iam::123456789012:role/r"
    bucket_arn = "arn:aws:s3:::b"
  }
}

resource "aws_kinesis_firehose_delivery_stream" "wrong" {
  name        = "wrong"
  destination = "extended_s3"

  processing_configuration {
    enabled = true
  }

  extended_s3_configuration {
    role_arn           = "arn:aws:iam::123456789012:role/r"
    bucket_arn         = "arn:aws:s3:::b"
    buffer_size        = 64
    buffering_interval = 1000
    compression_format = "gzip"
    prefix             = "events/!{timestamp:yyyy-MM-dd}/"

    cloudwatch_logging_options {
      enabled        = true
      log_group_name = "/aws/kinesisfirehose/wrong"
    }

    processing_configuration {
      enabled = true
      processors {
        type = "AppendDelimiter"
        parameters {
          parameter_name  = "Delim"
          parameter_value = "\\n"
        }
      }
    }
  }
}

resource "aws_s3_bucket" "b" {
  bucket = "b"

  versioning {
    enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "b" {
  bucket                  = aws_s3_bucket.b.id
  block_public_acl        = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES-256"
    }
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "no_rule" {
  bucket = aws_s3_bucket.b.id
}

resource "aws_s3_bucket_lifecycle_configuration" "b" {
  bucket = aws_s3_bucket.b.id

  rule {
    status = "enabled"

    expiration {
      days = 0
    }
  }
}

resource "aws_cloudwatch_log_stream" "s" {
  name = "S3Delivery"
}
