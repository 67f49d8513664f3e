# Breaks the monitoring rules on purpose (tfcheck's monitoring_test.go).

variable "channels" {
  type        = list(string)
  description = "Notification channels."
  default     = []
}

resource "google_logging_metric" "events" {
  project = "acme-events-test"
  name    = "acme/events"
  filter  = "jsonPayload.outcome=\"accepted\""
  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
  }
}

resource "google_monitoring_alert_policy" "silent" {
  project               = "acme-events-test"
  display_name          = "silent"
  combiner              = "OR"
  notification_channels = var.channels

  conditions {
    display_name = "undefined metric"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/acme/nope\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
    }
  }
}

resource "google_monitoring_alert_policy" "wrong_label" {
  project               = "acme-events-test"
  display_name          = "wrong label"
  combiner              = "OR"
  notification_channels = ["projects/acme-events-test/notificationChannels/1"]

  conditions {
    display_name = "label the metric does not extract"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.events.name}\" AND metric.labels.class=\"x\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
    }
  }

  conditions {
    display_name = "a metric nobody defines"
    condition_threshold {
      filter          = "metric.type=\"custom.googleapis.com/made_up\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
    }
  }

  documentation {
    content = "  "
  }
}

resource "google_monitoring_dashboard" "board" {
  project = "acme-events-test"
  dashboard_json = jsonencode({
    displayName = "board"
    mosaicLayout = {
      columns = 12
      tiles = [{
        widget = { xyChart = { dataSets = [{ timeSeriesQuery = { timeSeriesFilter = {
          filter = "metric.type=\"logging.googleapis.com/user/acme/missing\""
        } } }] } }
        }, {
        widget = { xyChart = { dataSets = [
          { timeSeriesQuery = { prometheusQuery = "sum(increase(logging_googleapis_com:user_acme_gone_sum[5m]))" } },
          { timeSeriesQuery = { prometheusQuery = "sum(increase(logging_googleapis_com:user_acme_events_sum[5m]))" } },
          { timeSeriesQuery = { prometheusQuery = "sum(rate(run_googleapis_com:request_count[5m]))" } },
        ] } }
      }]
    }
  })
}
