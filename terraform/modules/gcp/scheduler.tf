# Cloud Scheduler runs backfill over HTTP with an OIDC token of its own
# service account, which may invoke backfill and nothing else.

resource "google_cloud_scheduler_job" "backfill" {
  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-backfill"
  description      = "Resends dead-lettered eventrelay events"
  schedule         = var.backfill_schedule
  time_zone        = var.backfill_time_zone
  attempt_deadline = "${var.backfill.timeout_seconds}s"

  # The next scheduled run is the retry.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.fn["backfill"].service_config[0].uri
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.sa["scheduler"].email
      audience              = google_cloudfunctions2_function.fn["backfill"].service_config[0].uri
    }
  }

  lifecycle {
    precondition {
      condition     = local.backfill_budget_seconds + 20 <= var.backfill.timeout_seconds
      error_message = "backfill_time_budget + 20 s must fit in backfill.timeout_seconds, or runs are cut off mid-send."
    }
  }

  depends_on = [
    google_project_service.api,
    google_cloud_run_v2_service_iam_member.scheduler_invokes_backfill,
  ]
}
