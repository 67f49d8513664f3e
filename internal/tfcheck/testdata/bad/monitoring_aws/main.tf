# Breaks the monitoring rules on purpose (tfcheck's monitoring_test.go).

resource "aws_cloudwatch_log_group" "fn" {
  name              = "/aws/lambda/acme-forwarder"
  retention_in_days = 7
}

resource "aws_cloudwatch_log_metric_filter" "outcomes" {
  name           = "acme-outcomes"
  log_group_name = aws_cloudwatch_log_group.fn.name
  pattern        = "{ $.outcome = \"dead_lettered\" }"

  metric_transformation {
    name       = "forwarder_outcomes"
    namespace  = "acme"
    value      = "1"
    dimensions = { Outcome = "$.outcome" }
  }
}

resource "aws_cloudwatch_metric_alarm" "silent" {
  alarm_name          = "silent"
  namespace           = "acme"
  metric_name         = "not_published"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = []
}

resource "aws_cloudwatch_metric_alarm" "wrong_dimensions" {
  alarm_name          = "wrong-dimensions"
  alarm_description   = "Dead letters."
  namespace           = "acme"
  metric_name         = aws_cloudwatch_log_metric_filter.outcomes.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = ["arn:aws:sns:us-east-1:100010001000:alarms"]
}

resource "aws_cloudwatch_metric_alarm" "query" {
  alarm_name          = "query"
  alarm_description   = "A ratio."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = ["arn:aws:sns:us-east-1:100010001000:alarms"]

  metric_query {
    id = "m1"
    metric {
      namespace   = "acme"
      metric_name = "forwarder_outcomes"
      dimensions  = { Class = "auth" }
      period      = 300
      stat        = "Sum"
    }
  }
}
