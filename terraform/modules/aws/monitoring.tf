# Metrics, alarms and a dashboard made from the functions' own structured
# log lines (docs/operations.md).
#
# Metric filters on the log groups, not Embedded Metric Format: the
# functions already write one JSON line per outcome, so a filter turns them
# into metrics with no code on the hot path, no second format in the lines
# and the same lines as on Google Cloud; EMF would add a metrics block to
# every line the code writes. The field names are the ones the functions log
# (functions/*, shared/logging), and internal/logmetrics checks every
# pattern against the real functions' lines.

locals {
  metric_namespace = var.name_prefix

  # name => the function whose log group it reads, the filter pattern, and
  # the metric it publishes: value "1" counts lines, "$.field" sums a field.
  # Dimensions come from fields every selected line carries.
  metric_filters = {
    # Routine outcomes are summed from the count fields of one line per
    # request; every other outcome keeps its line per event.
    ingest_accepted = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"answered\" && $.accepted >= 1 }"
      metric     = "ingest_accepted"
      value      = "$.accepted"
      unit       = "Count"
      dimensions = { Source = "$.source" }
    }
    ingest_duplicates = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"answered\" && $.duplicates >= 1 }"
      metric     = "ingest_duplicates"
      value      = "$.duplicates"
      unit       = "Count"
      dimensions = { Source = "$.source" }
    }
    ingest_events = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"rejected\" || $.outcome = \"not_accepted\" || $.outcome = \"refused\" }"
      metric     = "ingest_events"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome", Source = "$.source" }
    }
    ingest_rejected = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"rejected\" || $.outcome = \"not_accepted\" }"
      metric     = "ingest_rejected"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome", Class = "$.class" }
    }
    ingest_requests = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"answered\" }"
      metric     = "ingest_requests"
      value      = "1"
      unit       = "Count"
      dimensions = {}
    }
    ingest_5xx = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"answered\" && $.status >= 500 }"
      metric     = "ingest_5xx"
      value      = "1"
      unit       = "Count"
      dimensions = {}
    }
    ingest_latency = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"answered\" }"
      metric     = "ingest_latency"
      value      = "$.duration_us"
      unit       = "Microseconds"
      dimensions = {}
    }
    ingest_auth_failures = {
      fn         = "ingest"
      pattern    = "{ $.outcome = \"auth_failed\" }"
      metric     = "ingest_auth_failures"
      value      = "1"
      unit       = "Count"
      dimensions = {}
    }
    forwarder_outcomes = {
      fn         = "forwarder"
      pattern    = "{ $.outcome = \"delivered\" || $.outcome = \"duplicate\" || $.outcome = \"retry\" || $.outcome = \"circuit_open\" || $.outcome = \"dead_lettered\" || $.outcome = \"dead_letter_failed\" || $.outcome = \"erased\" }"
      metric     = "forwarder_outcomes"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome" }
    }
    forwarder_dead_lettered = {
      fn         = "forwarder"
      pattern    = "{ $.outcome = \"dead_lettered\" }"
      metric     = "forwarder_dead_lettered"
      value      = "1"
      unit       = "Count"
      dimensions = { Class = "$.class" }
    }
    # One metric from two log groups: the forwarder and backfill both call
    # the platform with the key.
    platform_auth_forwarder = {
      fn         = "forwarder"
      pattern    = "{ $.outcome = \"dead_lettered\" && $.class = \"auth\" }"
      metric     = "platform_auth_failures"
      value      = "1"
      unit       = "Count"
      dimensions = {}
    }
    platform_auth_backfill = {
      fn         = "backfill"
      pattern    = "{ $.outcome = \"reparked\" && $.class = \"auth\" }"
      metric     = "platform_auth_failures"
      value      = "1"
      unit       = "Count"
      dimensions = {}
    }
    platform_latency = {
      fn         = "forwarder"
      pattern    = "{ $.platform_duration_us >= 0 }"
      metric     = "platform_latency"
      value      = "$.platform_duration_us"
      unit       = "Microseconds"
      dimensions = {}
    }
    platform_status = {
      fn         = "forwarder"
      pattern    = "{ $.platform_duration_us >= 0 && $.status >= 100 }"
      metric     = "platform_status"
      value      = "1"
      unit       = "Count"
      dimensions = { Status = "$.status" }
    }
    verify_callbacks = {
      fn         = "verify"
      pattern    = "{ $.outcome = \"confirmed\" || $.outcome = \"failed\" }"
      metric     = "verify_callbacks"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome" }
    }
    verify_reasons = {
      fn         = "verify"
      pattern    = "{ $.outcome = \"confirmed\" || $.outcome = \"failed\" }"
      metric     = "verify_reasons"
      value      = "1"
      unit       = "Count"
      dimensions = { Reason = "$.reason" }
    }
    backfill_events = {
      fn         = "backfill"
      pattern    = "{ $.outcome = \"resent\" || $.outcome = \"reparked\" || $.outcome = \"erased\" }"
      metric     = "backfill_events"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome" }
    }
    backfill_runs = {
      fn         = "backfill"
      pattern    = "{ $.outcome = \"completed\" || $.outcome = \"failed\" }"
      metric     = "backfill_runs"
      value      = "1"
      unit       = "Count"
      dimensions = { Outcome = "$.outcome" }
    }
  }

  alarm_topic = var.alarm_topic_arn != "" ? var.alarm_topic_arn : aws_sns_topic.alarms[0].arn

  # Alarms on one metric each: name => what it watches and when it fires.
  # evaluation_periods x period is how long the condition must hold.
  alarms = merge(local.queue_and_log_alarms, local.attestation_alarms, {
    for pair in setproduct(keys(local.functions), ["Errors", "Throttles"]) : "${pair[0]}_${lower(pair[1])}" => {
      description = pair[1] == "Errors" ? "The ${pair[0]} function failed more than ${var.alert_thresholds.function_errors_per_5m} invocations in 5 min (an error returned, a crash, a timeout). docs/operations.md: function errors." : "The ${pair[0]} function was throttled more than ${var.alert_thresholds.throttles_per_5m} times in 5 min: its reserved concurrency or the account's is used up. docs/operations.md: functions throttled."
      namespace   = "AWS/Lambda"
      metric      = pair[1]
      dimensions  = { FunctionName = aws_lambda_function.fn[pair[0]].function_name }
      statistic   = "Sum"
      period      = 300
      periods     = 1
      threshold   = pair[1] == "Errors" ? var.alert_thresholds.function_errors_per_5m : var.alert_thresholds.throttles_per_5m
    }
  })

  queue_and_log_alarms = {
    deadletter_backlog = {
      description = "Dead letters have waited for ${var.alert_thresholds.deadletter_backlog_minutes} min. Read their reasons, fix the cause, run backfill. docs/operations.md: dead letters waiting."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.deadletter.name }
      statistic   = "Maximum"
      period      = 60
      periods     = var.alert_thresholds.deadletter_backlog_minutes
      threshold   = 0
    }
    deadletter_oldest = {
      description = "The oldest dead letter is older than ${var.alert_thresholds.deadletter_oldest_age_hours} h: backfill has not cleared it, and SQS drops it after 14 days. docs/operations.md: oldest dead letter."
      namespace   = "AWS/SQS"
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = aws_sqs_queue.deadletter.name }
      statistic   = "Maximum"
      period      = 300
      periods     = 1
      threshold   = var.alert_thresholds.deadletter_oldest_age_hours * 3600
    }
    events_backlog = {
      description = "Events wait on the events queue for more than ${var.alert_thresholds.events_backlog_age_minutes} min: the forwarder fails, retries or is throttled, or the platform is down. docs/operations.md: events not delivered."
      namespace   = "AWS/SQS"
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = aws_sqs_queue.events.name }
      statistic   = "Maximum"
      period      = 300
      periods     = 1
      threshold   = var.alert_thresholds.events_backlog_age_minutes * 60
    }
    dead_letter_rate = {
      description = "The forwarder dead-lettered more than ${var.alert_thresholds.dead_letters_per_5m} events in 5 min; forwarder_dead_lettered by Class says why. docs/operations.md: forwarder dead-lettering."
      namespace   = local.metric_namespace
      metric      = local.metric_filters.forwarder_outcomes.metric
      dimensions  = { Outcome = "dead_lettered" }
      statistic   = "Sum"
      period      = 300
      periods     = 1
      threshold   = var.alert_thresholds.dead_letters_per_5m
    }
    auth_failures = {
      description = "More than ${var.alert_thresholds.auth_failures_per_5m} ingest authentication failures in 5 min: a key rotated without the app, or a leaked key tried. docs/operations.md: ingest authentication failures."
      namespace   = local.metric_namespace
      metric      = local.metric_filters.ingest_auth_failures.metric
      dimensions  = {}
      statistic   = "Sum"
      period      = 300
      periods     = 1
      threshold   = var.alert_thresholds.auth_failures_per_5m
    }
    platform_auth = {
      description = "The platform refuses the MCM API key even after a re-read: it was revoked or is wrong, and every event is dead-lettered. docs/operations.md: platform refuses the API key."
      namespace   = local.metric_namespace
      metric      = local.metric_filters.platform_auth_forwarder.metric
      dimensions  = {}
      statistic   = "Sum"
      period      = 300
      periods     = 1
      threshold   = var.alert_thresholds.platform_auth_failures_5m
    }
    backfill_failures = {
      description = "More than ${var.alert_thresholds.backfill_run_failures} backfill runs failed in an hour: dead letters are not being resent. docs/operations.md: backfill runs failing."
      namespace   = local.metric_namespace
      metric      = local.metric_filters.backfill_runs.metric
      dimensions  = { Outcome = "failed" }
      statistic   = "Sum"
      period      = 3600
      periods     = 1
      threshold   = var.alert_thresholds.backfill_run_failures
    }
  }
}

resource "aws_cloudwatch_log_metric_filter" "metric" {
  for_each = merge(local.metric_filters, local.attestation_metric_filters)

  name           = "${var.name_prefix}-${each.key}"
  log_group_name = aws_cloudwatch_log_group.fn[each.value.fn].name
  pattern        = each.value.pattern

  metric_transformation {
    name       = each.value.metric
    namespace  = local.metric_namespace
    value      = each.value.value
    unit       = each.value.unit
    dimensions = each.value.dimensions
  }
}

# The module's own target when none is given: subscribe an address, a chat
# hook or a pager to it.
resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == "" ? 1 : 0

  name = "${var.name_prefix}-alarms"
  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "metric" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  # No line means nothing happened: no dead letter, no failure.
  treat_missing_data = "notBreaching"
  actions_enabled    = var.alarms_enabled
  alarm_actions      = [local.alarm_topic]
  ok_actions         = [local.alarm_topic]
  tags               = var.tags

  depends_on = [aws_cloudwatch_log_metric_filter.metric]
}

resource "aws_cloudwatch_metric_alarm" "ingest_5xx" {
  alarm_name          = "${var.name_prefix}-ingest-5xx"
  alarm_description   = "More than ${var.alert_thresholds.ingest_5xx_ratio * 100}% of ingest requests answered 5xx in 5 min: the queue or the ledger does not acknowledge. docs/operations.md: ingest answering 5xx."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.alert_thresholds.ingest_5xx_ratio
  treat_missing_data  = "notBreaching"
  actions_enabled     = var.alarms_enabled
  alarm_actions       = [local.alarm_topic]
  ok_actions          = [local.alarm_topic]
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "IF(requests > 0, errors / requests, 0)"
    label       = "share of ingest requests answered 5xx"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = local.metric_namespace
      metric_name = local.metric_filters.ingest_5xx.metric
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = local.metric_namespace
      metric_name = local.metric_filters.ingest_requests.metric
      period      = 300
      stat        = "Sum"
    }
  }

  depends_on = [aws_cloudwatch_log_metric_filter.metric]
}

resource "aws_cloudwatch_metric_alarm" "verify_failures" {
  alarm_name          = "${var.name_prefix}-verify-failures"
  alarm_description   = "More than ${var.alert_thresholds.verify_failure_ratio * 100}% of DFINERY callbacks failed over 15 min: keys out of step, events missing from the ledger, or a mapping gap. docs/operations.md: verify failing callbacks."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.alert_thresholds.verify_failure_ratio
  treat_missing_data  = "notBreaching"
  actions_enabled     = var.alarms_enabled
  alarm_actions       = [local.alarm_topic]
  ok_actions          = [local.alarm_topic]
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "IF(failed + confirmed > 0, failed / (failed + confirmed), 0)"
    label       = "share of callbacks failed"
    return_data = true
  }

  metric_query {
    id = "failed"
    metric {
      namespace   = local.metric_namespace
      metric_name = local.metric_filters.verify_callbacks.metric
      dimensions  = { Outcome = "failed" }
      period      = 900
      stat        = "Sum"
    }
  }

  metric_query {
    id = "confirmed"
    metric {
      namespace   = local.metric_namespace
      metric_name = local.metric_filters.verify_callbacks.metric
      dimensions  = { Outcome = "confirmed" }
      period      = 900
      stat        = "Sum"
    }
  }

  depends_on = [aws_cloudwatch_log_metric_filter.metric]
}

# tflint-ignore: terraform_standard_module_structure
output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify: subscribe to it."
  value       = local.alarm_topic
}

# ---- Dashboard -----------------------------------------------------------------

data "aws_region" "current" {}

locals {
  ns = local.metric_namespace
  # One chart per row of the funnel, two to a row; SEARCH draws one line
  # per dimension value.
  dashboard_charts = [
    { title = "ingest: events by outcome", stat = "Sum", metrics = [
      [{ expression = "SEARCH('{${local.ns},Source} MetricName=\"ingest_accepted\"', 'Sum', 300)", id = "e1", label = "accepted" }],
      [{ expression = "SEARCH('{${local.ns},Source} MetricName=\"ingest_duplicates\"', 'Sum', 300)", id = "e2", label = "duplicate" }],
      [{ expression = "SEARCH('{${local.ns},Outcome,Source} MetricName=\"ingest_events\"', 'Sum', 300)", id = "e3" }],
    ] },
    { title = "forwarder: deliveries by outcome", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Outcome} MetricName=\"forwarder_outcomes\"', 'Sum', 300)", id = "e1" }]] },
    { title = "pending: events waiting to be delivered", stat = "Maximum", metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.events.name]] },
    { title = "dead letters waiting", stat = "Maximum", metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.deadletter.name]] },
    { title = "forwarder: dead-lettered by class", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Class} MetricName=\"forwarder_dead_lettered\"', 'Sum', 300)", id = "e1" }]] },
    { title = "platform: answers by status", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Status} MetricName=\"platform_status\"', 'Sum', 300)", id = "e1" }]] },
    { title = "platform: call latency p99 (us)", stat = "p99", metrics = [[local.ns, "platform_latency"]] },
    { title = "ingest: request latency p99 (us)", stat = "p99", metrics = [[local.ns, "ingest_latency"]] },
    { title = "ingest: rejected and not accepted by class", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Outcome,Class} MetricName=\"ingest_rejected\"', 'Sum', 300)", id = "e1" }]] },
    { title = "ingest: requests, 5xx, authentication failures", stat = "Sum", metrics = [[local.ns, "ingest_requests"], [local.ns, "ingest_5xx"], [local.ns, "ingest_auth_failures"]] },
    { title = "verify: verdicts by reason", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Reason} MetricName=\"verify_reasons\"', 'Sum', 300)", id = "e1" }]] },
    { title = "backfill: events resent and reparked", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Outcome} MetricName=\"backfill_events\"', 'Sum', 300)", id = "e1" }]] },
    { title = "backfill: runs by outcome", stat = "Sum", metrics = [[{ expression = "SEARCH('{${local.ns},Outcome} MetricName=\"backfill_runs\"', 'Sum', 3600)", id = "e1" }]] },
    { title = "Lambda errors and throttles", stat = "Sum", metrics = flatten([for fn in keys(local.functions) : [["AWS/Lambda", "Errors", "FunctionName", "${var.name_prefix}-${fn}"], ["AWS/Lambda", "Throttles", "FunctionName", "${var.name_prefix}-${fn}"]]]) },
  ]
}

# Dashboards are global to the account (PutDashboard overwrites one of the
# same name): the region in the name keeps a second region's apart.
resource "aws_cloudwatch_dashboard" "funnel" {
  dashboard_name = "${var.name_prefix}-funnel-${data.aws_region.current.region}"
  dashboard_body = jsonencode({
    widgets = [for i, c in local.dashboard_charts : {
      type   = "metric"
      x      = (i % 2) * 12
      y      = floor(i / 2) * 6
      width  = 12
      height = 6
      properties = {
        title   = c.title
        region  = data.aws_region.current.region
        stat    = c.stat
        period  = 300
        view    = "timeSeries"
        metrics = c.metrics
      }
    }]
  })
}
