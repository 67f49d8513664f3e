# Metrics, alerts and a dashboard made from the functions' own structured
# log lines (docs/operations.md): log-based metrics cost no API call on the
# hot path and no code. Every line a metric counts carries "outcome"; the
# field names are the ones the functions log (functions/*, shared/logging),
# and internal/logmetrics checks each filter against the real functions'
# lines.

locals {
  # Cloud Functions gen2 runs on Cloud Run: its log entries name the
  # function as the Cloud Run service.
  fn_log = { for fn in keys(local.functions) : fn => "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.name_prefix}-${fn}\"" }

  user_metric = "logging.googleapis.com/user"

  # Every alert notifies the module's own Pub/Sub alerts topic and the
  # operator's channels.
  alert_channels = concat([google_monitoring_notification_channel.alerts.id], var.notification_channels)

  deadletter_subscription = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.deadletter.name}\""
  events_subscription     = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.events.name}\""
  function_services       = join(", ", [for fn in keys(local.functions) : "\"${var.name_prefix}-${fn}\""])
}

resource "google_project_service" "monitoring" {
  for_each = var.enable_apis ? toset(["logging.googleapis.com", "monitoring.googleapis.com"]) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# ---- Log-based metrics -----------------------------------------------------

locals {
  # name => what it counts, the filter, the labels (label => the field it
  # extracts) and, for a distribution, the field it reads, its unit (us: a
  # latency; 1: a count of events, whose sum is what the metric counts)
  # and the first bucket's bound.
  log_metrics = {
    # Routine outcomes are counted from one line per request, which
    # carries the counts: a distribution of the count field, whose sum is
    # the events (unit "1"). Every other outcome keeps its line per event.
    ingest_accepted = {
      description = "Events ingest accepted (the queue acknowledged them), summed from each request's \"accepted\" count: the distribution's sum is the events, its count the requests."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=\"answered\" AND jsonPayload.accepted>=1"
      labels      = { source = "jsonPayload.source" }
      value       = "jsonPayload.accepted"
      unit        = "1"
      scale       = 1
    }
    ingest_duplicates = {
      description = "Events ingest dropped as duplicates (of an event earlier in the request or of one an earlier request delivered), summed from each request's \"duplicates\" count."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=\"answered\" AND jsonPayload.duplicates>=1"
      labels      = { source = "jsonPayload.source" }
      value       = "jsonPayload.duplicates"
      unit        = "1"
      scale       = 1
    }
    ingest_events = {
      description = "Events ingest did not queue, one line per event: rejected (class: too_large, malformed, invalid, unencodable), not_accepted (class: ledger_unavailable, queue_unavailable, queue_misconfigured, suppressions_unavailable, catalog_unavailable), refused (class: no_consent, erased). Accepted and duplicate events: ingest_accepted, ingest_duplicates."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=(\"rejected\" OR \"not_accepted\" OR \"refused\")"
      labels      = { outcome = "jsonPayload.outcome", class = "jsonPayload.class", source = "jsonPayload.source" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    ingest_requests = {
      description = "Requests ingest answered, by HTTP status."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=\"answered\""
      labels      = { status = "jsonPayload.status" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    ingest_latency = {
      description = "Time ingest took to answer a request, queue acknowledgement included."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=\"answered\""
      labels      = { status = "jsonPayload.status" }
      value       = "jsonPayload.duration_us"
      unit        = "us"
      scale       = 100
    }
    ingest_auth_failures = {
      description = "Requests ingest refused at authentication, by reason."
      filter      = "${local.fn_log.ingest} AND jsonPayload.outcome=\"auth_failed\""
      labels      = { reason = "jsonPayload.reason" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    forwarder_outcomes = {
      description = "What the forwarder did with each delivery: delivered, duplicate, retry, circuit_open, dead_lettered (class: permanent, retryable, auth, undecodable), dead_letter_failed, erased (an erased person's, dropped unsent)."
      filter      = "${local.fn_log.forwarder} AND jsonPayload.outcome=(\"delivered\" OR \"duplicate\" OR \"retry\" OR \"circuit_open\" OR \"dead_lettered\" OR \"dead_letter_failed\" OR \"erased\")"
      labels      = { outcome = "jsonPayload.outcome", class = "jsonPayload.class", status = "jsonPayload.status", source = "jsonPayload.source" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    platform_latency = {
      description = "Time of the forwarder's call to the platform's Events API (a re-read of a rotated key included), by HTTP status."
      filter      = "${local.fn_log.forwarder} AND jsonPayload.platform_duration_us>=0"
      labels      = { status = "jsonPayload.status" }
      value       = "jsonPayload.platform_duration_us"
      unit        = "us"
      scale       = 1000
    }
    verify_callbacks = {
      description = "DFINERY verification callbacks, confirmed or failed, by reason."
      filter      = "${local.fn_log.verify} AND jsonPayload.outcome=(\"confirmed\" OR \"failed\")"
      labels      = { outcome = "jsonPayload.outcome", reason = "jsonPayload.reason" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    backfill_events = {
      description = "Dead letters backfill sent again: resent (delivered), reparked (class: permanent, retryable, auth) or erased (an erased person's, dropped unsent)."
      filter      = "${local.fn_log.backfill} AND jsonPayload.outcome=(\"resent\" OR \"reparked\" OR \"erased\")"
      labels      = { outcome = "jsonPayload.outcome", class = "jsonPayload.class", source = "jsonPayload.source" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    backfill_runs = {
      description = "Backfill runs, completed or failed, by stop reason."
      filter      = "${local.fn_log.backfill} AND jsonPayload.outcome=(\"completed\" OR \"failed\")"
      labels      = { outcome = "jsonPayload.outcome", stop_reason = "jsonPayload.stop_reason" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
    # Plain stderr text (a panic's trace) has no severity in Cloud Logging:
    # this counts the functions' own ERROR lines.
    function_errors = {
      description = "Log entries of severity ERROR or worse, by function."
      filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(${join(" OR ", [for fn in keys(local.functions) : "\"${var.name_prefix}-${fn}\""])}) AND severity>=ERROR"
      labels      = { function = "resource.labels.service_name" }
      value       = ""
      unit        = "1"
      scale       = 0
    }
  }

  label_descriptions = {
    outcome     = "the line's outcome (the metric's description lists them)"
    class       = "why the event was not queued, delivered or resent"
    source      = "the ingest source that sent the event"
    status      = "the HTTP status (ingest's answer, or the platform's)"
    reason      = "the reason code"
    stop_reason = "why the run stopped (drained, time_budget, platform_failing, queue_error, ...)"
    function    = "the function's Cloud Run service name"
  }

  metric_type = { for k, m in google_logging_metric.metric : k => "${local.user_metric}/${m.name}" }
}

resource "google_logging_metric" "metric" {
  for_each = merge(local.log_metrics, local.attestation_log_metrics)

  project     = var.project_id
  name        = "${var.name_prefix}/${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = each.value.value == "" ? "INT64" : "DISTRIBUTION"
    unit        = each.value.unit
    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.key
        value_type  = "STRING"
        description = merge(local.label_descriptions, local.attestation_label_descriptions)[labels.key]
      }
    }
  }

  label_extractors = { for label, field in each.value.labels : label => "EXTRACT(${field})" }
  value_extractor  = each.value.value == "" ? null : "EXTRACT(${each.value.value})"

  dynamic "bucket_options" {
    for_each = each.value.value == "" ? [] : [each.value.scale]
    content {
      exponential_buckets {
        num_finite_buckets = 32
        growth_factor      = 1.6
        scale              = bucket_options.value
      }
    }
  }

  depends_on = [google_project_service.monitoring]
}

# Cloud Monitoring knows a new log-based metric only some time after
# Logging created it: until then creating an alert policy on it fails with
# 404 "Cannot find metric(s) ... it could take up to 10 minutes to become
# available", and the provider retries alert policies on 409 only
# (hashicorp/terraform-provider-google#11102). The alert policies that read
# the module's metrics wait here, the 10 minutes the API names, after the
# last metric was created. Needs hashicorp/time (versions.tf). The names
# in triggers replace the wait, so it is waited for again, when a metric is
# added; the wait runs beside the functions' builds on a first apply.
resource "time_sleep" "log_metrics" {
  create_duration = "10m"

  triggers = {
    metrics = join(",", sort([for m in google_logging_metric.metric : m.name]))
  }
}

# ---- Where alerts go ---------------------------------------------------------

# The module's own target: a Pub/Sub topic, so every alert has somewhere to
# go before an operator adds channels (subscribe a chat hook or a pager to
# it, or pass notification_channels).
resource "google_pubsub_topic" "alerts" {
  project = var.project_id
  name    = "${var.name_prefix}-alerts"
  labels  = var.labels

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic_iam_member" "monitoring_publishes_alerts" {
  project = var.project_id
  topic   = google_pubsub_topic.alerts.name
  role    = "roles/pubsub.publisher"
  member  = local.monitoring_agent
}

resource "google_monitoring_notification_channel" "alerts" {
  project      = var.project_id
  display_name = "${var.name_prefix} alerts topic"
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.alerts.id
  }

  depends_on = [google_project_service.monitoring, google_pubsub_topic_iam_member.monitoring_publishes_alerts]
}

# tflint-ignore: terraform_standard_module_structure
output "alerts_topic" {
  description = "The Pub/Sub topic every alert notifies: subscribe to it."
  value       = google_pubsub_topic.alerts.id
}

# ---- Alerts ------------------------------------------------------------------

locals {
  # The alerts on one series each: name => its title, condition, filter,
  # threshold, how long it must hold (duration) over which window
  # (period, aligner), and what to do (docs/operations.md).
  threshold_alerts = {
    deadletter_backlog = {
      title     = "dead letters waiting"
      condition = "dead-letter subscription not empty for ${var.alert_thresholds.deadletter_backlog_minutes} min"
      filter    = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND ${local.deadletter_subscription}"
      threshold = 0
      duration  = var.alert_thresholds.deadletter_backlog_minutes * 60
      period    = 60
      aligner   = "ALIGN_MAX"
      group_by  = []
      doc       = "Events the forwarder gave up on wait in ${google_pubsub_subscription.deadletter.name}. Read their reasons (docs/operations.md: dead letters waiting), fix the cause, then run backfill."
    }
    deadletter_oldest = {
      title     = "oldest dead letter"
      condition = "oldest dead letter older than ${var.alert_thresholds.deadletter_oldest_age_hours} h"
      filter    = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.deadletter_subscription}"
      threshold = var.alert_thresholds.deadletter_oldest_age_hours * 3600
      duration  = 300
      period    = 60
      aligner   = "ALIGN_MAX"
      group_by  = []
      doc       = "A dead letter has waited for more than ${var.alert_thresholds.deadletter_oldest_age_hours} h: backfill has not cleared it, and it is lost when its 7-day retention ends. docs/operations.md: oldest dead letter."
    }
    events_backlog = {
      title     = "events not delivered"
      condition = "oldest undelivered event older than ${var.alert_thresholds.events_backlog_age_minutes} min"
      filter    = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.events_subscription}"
      threshold = var.alert_thresholds.events_backlog_age_minutes * 60
      duration  = 300
      period    = 60
      aligner   = "ALIGN_MAX"
      group_by  = []
      doc       = "Events wait on ${google_pubsub_subscription.events.name}: the forwarder is failing, retrying or throttled, or the platform is down. docs/operations.md: events not delivered."
    }
    dead_letter_rate = {
      title     = "forwarder dead-lettering"
      condition = "more than ${var.alert_thresholds.dead_letters_per_5m} events dead-lettered in 5 min"
      filter    = "metric.type=\"${local.metric_type.forwarder_outcomes}\" AND metric.labels.outcome=\"dead_lettered\""
      threshold = var.alert_thresholds.dead_letters_per_5m
      duration  = 0
      period    = 300
      aligner   = "ALIGN_SUM"
      group_by  = []
      doc       = "The forwarder is dead-lettering events. The class label says why (permanent: the platform refuses the event; retryable: it kept failing; auth: the key). docs/operations.md: forwarder dead-lettering."
    }
    auth_failures = {
      title     = "ingest authentication failures"
      condition = "more than ${var.alert_thresholds.auth_failures_per_5m} authentication failures in 5 min"
      filter    = "metric.type=\"${local.metric_type.ingest_auth_failures}\""
      threshold = var.alert_thresholds.auth_failures_per_5m
      duration  = 0
      period    = 300
      aligner   = "ALIGN_SUM"
      group_by  = ["metric.labels.reason"]
      doc       = "Callers are refused at ingest: a key was rotated without the app, or a leaked key is tried. The reason label says which check fails. docs/operations.md: ingest authentication failures."
    }
    backfill_failures = {
      title     = "backfill runs failing"
      condition = "more than ${var.alert_thresholds.backfill_run_failures} failed backfill runs in an hour"
      filter    = "metric.type=\"${local.metric_type.backfill_runs}\" AND metric.labels.outcome=\"failed\""
      threshold = var.alert_thresholds.backfill_run_failures
      duration  = 0
      period    = 3600
      aligner   = "ALIGN_SUM"
      group_by  = []
      doc       = "A backfill run stopped on a queue error: dead letters are not being resent. docs/operations.md: backfill runs failing."
    }
    function_errors = {
      title     = "function errors"
      condition = "more than ${var.alert_thresholds.function_errors_per_5m} error lines in 5 min"
      filter    = "metric.type=\"${local.metric_type.function_errors}\""
      threshold = var.alert_thresholds.function_errors_per_5m
      duration  = 0
      period    = 300
      aligner   = "ALIGN_SUM"
      group_by  = ["metric.labels.function"]
      doc       = "A function logs errors: a dependency it cannot reach (secrets, ledger, dead-letter topic) or a crash. docs/operations.md: function errors."
    }
    throttles = {
      title     = "functions throttled"
      condition = "more than ${var.alert_thresholds.throttles_per_5m} requests refused with 429 in 5 min"
      filter    = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=one_of(${local.function_services}) AND metric.labels.response_code=\"429\""
      threshold = var.alert_thresholds.throttles_per_5m
      duration  = 0
      period    = 300
      aligner   = "ALIGN_SUM"
      group_by  = ["resource.labels.service_name"]
      doc       = "A function has no instance free (max_instances reached) and refuses requests. docs/operations.md: functions throttled."
    }
  }
}

resource "google_monitoring_alert_policy" "threshold" {
  for_each = merge(local.threshold_alerts, local.attestation_alerts)

  project               = var.project_id
  display_name          = "${var.name_prefix}: ${each.value.title}"
  combiner              = "OR"
  enabled               = var.alerts_enabled
  notification_channels = local.alert_channels

  conditions {
    display_name = each.value.condition
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "${each.value.duration}s"
      aggregations {
        alignment_period     = "${each.value.period}s"
        per_series_aligner   = each.value.aligner
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = each.value.group_by
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = each.value.doc
  }

  # Some read the module's log-based metrics: after they are known.
  depends_on = [time_sleep.log_metrics]
}

# Three more: two compare a share (a ratio), one watches two series.

resource "google_monitoring_alert_policy" "ingest_5xx" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: ingest answering 5xx"
  combiner              = "OR"
  enabled               = var.alerts_enabled
  notification_channels = local.alert_channels

  conditions {
    display_name = "more than ${var.alert_thresholds.ingest_5xx_ratio * 100}% of ingest requests answered 5xx"
    condition_threshold {
      filter                  = "metric.type=\"${local.metric_type.ingest_requests}\" AND metric.labels.status=monitoring.regex.full_match(\"5[0-9][0-9]\")"
      denominator_filter      = "metric.type=\"${local.metric_type.ingest_requests}\""
      comparison              = "COMPARISON_GT"
      threshold_value         = var.alert_thresholds.ingest_5xx_ratio
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Ingest answers 503: the queue or the ledger does not acknowledge, and callers are told to retry. docs/operations.md: ingest answering 5xx."
  }

  # Reads the module's log-based metrics: after they are known.
  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "platform_auth" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: platform refuses the API key"
  combiner              = "OR"
  enabled               = var.alerts_enabled
  notification_channels = local.alert_channels

  conditions {
    display_name = "forwarder dead-letters for the API key"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_type.forwarder_outcomes}\" AND metric.labels.outcome=\"dead_lettered\" AND metric.labels.class=\"auth\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_thresholds.platform_auth_failures_5m
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "backfill re-parks for the API key"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_type.backfill_events}\" AND metric.labels.outcome=\"reparked\" AND metric.labels.class=\"auth\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_thresholds.platform_auth_failures_5m
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The platform answers 401/403 even after the key was read again: the MCM API key was revoked or is wrong. Every event is dead-lettered until it is fixed. docs/operations.md: platform refuses the API key."
  }

  # Reads the module's log-based metrics: after they are known.
  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "verify_failures" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: verify failing callbacks"
  combiner              = "OR"
  enabled               = var.alerts_enabled
  notification_channels = local.alert_channels

  conditions {
    display_name = "more than ${var.alert_thresholds.verify_failure_ratio * 100}% of callbacks failed over 15 min"
    condition_threshold {
      filter                  = "metric.type=\"${local.metric_type.verify_callbacks}\" AND metric.labels.outcome=\"failed\""
      denominator_filter      = "metric.type=\"${local.metric_type.verify_callbacks}\""
      comparison              = "COMPARISON_GT"
      threshold_value         = var.alert_thresholds.verify_failure_ratio
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "DFINERY's callbacks mostly fail: keys out of step (bad_signature), events missing from the ledger (not_found), or a mapping gap. docs/operations.md: verify failing callbacks."
  }

  # Reads the module's log-based metrics: after they are known.
  depends_on = [time_sleep.log_metrics]
}

# ---- Dashboard -----------------------------------------------------------------

locals {
  # One chart per row of the funnel, two to a row.
  dashboard_charts = [
    { title = "ingest: events not queued, by outcome", filter = "metric.type=\"${local.metric_type.ingest_events}\"", by = ["metric.labels.outcome"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "forwarder: deliveries by outcome", filter = "metric.type=\"${local.metric_type.forwarder_outcomes}\"", by = ["metric.labels.outcome"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "pending: events waiting to be delivered", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND ${local.events_subscription}", by = [], aligner = "ALIGN_MAX", reducer = "REDUCE_SUM" },
    { title = "dead letters waiting", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND ${local.deadletter_subscription}", by = [], aligner = "ALIGN_MAX", reducer = "REDUCE_SUM" },
    { title = "forwarder: dead-lettered by class", filter = "metric.type=\"${local.metric_type.forwarder_outcomes}\" AND metric.labels.outcome=\"dead_lettered\"", by = ["metric.labels.class"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "platform: answers by status", filter = "metric.type=\"${local.metric_type.forwarder_outcomes}\"", by = ["metric.labels.status"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "platform: call latency p99 (us)", filter = "metric.type=\"${local.metric_type.platform_latency}\"", by = [], aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99" },
    { title = "ingest: request latency p99 (us)", filter = "metric.type=\"${local.metric_type.ingest_latency}\"", by = [], aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99" },
    { title = "ingest: requests by status", filter = "metric.type=\"${local.metric_type.ingest_requests}\"", by = ["metric.labels.status"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "ingest: authentication failures by reason", filter = "metric.type=\"${local.metric_type.ingest_auth_failures}\"", by = ["metric.labels.reason"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "verify: verdicts by reason", filter = "metric.type=\"${local.metric_type.verify_callbacks}\"", by = ["metric.labels.reason"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "backfill: events resent and reparked", filter = "metric.type=\"${local.metric_type.backfill_events}\"", by = ["metric.labels.outcome"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "backfill: runs by outcome", filter = "metric.type=\"${local.metric_type.backfill_runs}\"", by = ["metric.labels.outcome", "metric.labels.stop_reason"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
    { title = "errors by function", filter = "metric.type=\"${local.metric_type.function_errors}\"", by = ["metric.labels.function"], aligner = "ALIGN_SUM", reducer = "REDUCE_SUM" },
  ]
}

locals {
  # Charts of events counted by a request's count field: the sum of a
  # distribution, which a filter's aligners cannot chart but PromQL can,
  # as <metric>_sum (Cloud Monitoring's PromQL names: the metric type's
  # first / becomes :, every other / and - becomes _).
  promql_metric = { for k, t in local.metric_type : k => replace(replace(replace(t, "logging.googleapis.com/", "logging_googleapis_com:"), "/", "_"), "-", "_") }
  promql_charts = [
    { title = "ingest: events accepted and duplicates", queries = [for k in ["ingest_accepted", "ingest_duplicates"] : "sum(increase(${local.promql_metric[k]}_sum[5m]))"] },
  ]
}

resource "google_monitoring_dashboard" "funnel" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "${var.name_prefix}: event funnel"
    mosaicLayout = {
      columns = 48
      tiles = concat([for i, c in local.dashboard_charts : {
        xPos   = (i % 2) * 24
        yPos   = floor(i / 2) * 16
        width  = 24
        height = 16
        widget = {
          title = c.title
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter = c.filter
                  aggregation = {
                    alignmentPeriod    = "300s"
                    perSeriesAligner   = c.aligner
                    crossSeriesReducer = c.reducer
                    groupByFields      = c.by
                  }
                }
              }
            }]
          }
        }
        }], [for j, c in local.promql_charts : {
        xPos   = ((length(local.dashboard_charts) + j) % 2) * 24
        yPos   = floor((length(local.dashboard_charts) + j) / 2) * 16
        width  = 24
        height = 16
        widget = {
          title = c.title
          xyChart = {
            dataSets = [for q in c.queries : {
              plotType        = "LINE"
              timeSeriesQuery = { prometheusQuery = q }
            }]
          }
        }
      }])
    }
  })

  depends_on = [google_project_service.monitoring]
}
