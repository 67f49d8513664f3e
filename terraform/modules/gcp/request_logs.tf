# Cloud Run writes one request log entry (~1.2 KB) to Cloud Logging for every
# request a function serves, each Pub/Sub push to the forwarder included: at
# one push an event it was the largest term of docs/cost.md on Google Cloud.
# This exclusion drops the entries of the module's own functions' successful
# requests (status below 400) before they are stored and billed; every 4xx
# and 5xx entry stays, and so do the functions' own lines and Cloud Run's
# request metrics, which are not log-based. An entry with no status is not
# matched by the comparison, so it stays too.

locals {
  # A Cloud Functions gen2 function is served by a Cloud Run service of the
  # same name (functions.tf names each "<name_prefix>-<function>").
  request_log_services = [for k in keys(local.functions) : "${var.name_prefix}-${k}"]
}

resource "google_logging_project_exclusion" "successful_requests" {
  count = var.exclude_successful_request_logs ? 1 : 0

  project     = var.project_id
  name        = "${var.name_prefix}-successful-requests"
  description = "eventrelay: Cloud Run request logs of the ${var.name_prefix} functions' successful requests (status < 400); 4xx and 5xx entries are kept."
  filter = join(" AND ", [
    "logName = \"projects/${var.project_id}/logs/run.googleapis.com%2Frequests\"",
    "resource.type = \"cloud_run_revision\"",
    "resource.labels.service_name = (${join(" OR ", [for s in local.request_log_services : "\"${s}\""])})",
    "httpRequest.status < 400",
  ])

  depends_on = [google_project_service.monitoring]
}
