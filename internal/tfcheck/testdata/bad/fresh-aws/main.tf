# What failed or raced on a first apply in a fresh account, on purpose: the
# checker must report every one of these.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

variable "backfill" {
  type = object({
    reserved_concurrency = optional(number, 1)
  })
  description = "backfill settings"
  default     = {}
}

resource "aws_lambda_function" "backfill" {
  function_name                  = "backfill"
  role                           = "arn:aws:iam::100010001000:role/backfill"
  runtime                        = "provided.al2023"
  architectures                  = ["arm64"]
  handler                        = "bootstrap"
  reserved_concurrent_executions = var.backfill.reserved_concurrency
}

resource "aws_lambda_function_url" "public" {
  function_name      = aws_lambda_function.backfill.function_name
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "url_public" {
  statement_id           = "FunctionURLAllowPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.backfill.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "url_invoke" {
  statement_id             = "AllowInvokeThroughTheURL"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.backfill.function_name
  principal                = "*"
  invoked_via_function_url = true
}

resource "aws_scheduler_schedule" "backfill" {
  name                = "backfill"
  schedule_expression = "rate(15 minutes)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.backfill.arn
    role_arn = "arn:aws:iam::100010001000:role/scheduler"
  }
}
