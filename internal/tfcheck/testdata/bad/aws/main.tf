# Breaks the rules on purpose: the checker must report every one of these.

variable "timeout" {
  type        = number
  description = "forwarder timeout"
  default     = 60
}

resource "aws_sqs_queue" "events" {
  name                       = "events"
  visibility_timeout_seconds = 30
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "fn" {
  name               = "fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "fn" {
  statement {
    actions   = ["sqs:*"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "fn" {
  role   = aws_iam_role.fn.id
  policy = data.aws_iam_policy_document.fn.json
}

resource "aws_iam_role_policy" "inline" {
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}

resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.fn.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_lambda_function" "fn" {
  function_name = "fn"
  role          = aws_iam_role.fn.arn
  runtime       = "go1.x"
  architectures = ["x86_64"]
  handler       = "main"
  timeout       = var.timeout
  filename      = "f.zip"

  environment {
    variables = {
      EVENTRELAY_FUNCTION = "forwarder"
    }
  }
}

resource "aws_lambda_event_source_mapping" "fn" {
  event_source_arn = aws_sqs_queue.events.arn
  function_name    = aws_lambda_function.fn.arn
}

resource "aws_dynamodb_table" "ledger" {
  name     = "ledger"
  hash_key = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_secretsmanager_secret_version" "v" {
  secret_id     = "x"
  secret_string = "hunter2"
}
