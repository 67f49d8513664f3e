# verify's optional static header token (VERIFY_HEADER_TOKEN_SECRET): a
# secret, created empty like every secret here, that only verify reads;
# DFINERY then sends its value in VERIFY_TOKEN_HEADER beside the signature.

# tflint-ignore: terraform_standard_module_structure
variable "verify_header_token" {
  type        = bool
  description = "VERIFY_HEADER_TOKEN_SECRET: create the verify-header-token secret (empty; add the token out of band) and make verify require the token it holds in verify_token_header."
  default     = false
}

resource "google_secret_manager_secret" "verify_header_token" {
  count = var.verify_header_token ? 1 : 0

  project   = var.project_id
  secret_id = "${var.name_prefix}-verify-header-token"
  labels    = var.labels

  annotations = {
    purpose = "The static token DFINERY sends verify in its token header"
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_iam_member" "verify_reads_header_token" {
  count = var.verify_header_token ? 1 : 0

  project   = var.project_id
  secret_id = google_secret_manager_secret.verify_header_token[0].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.sa["verify"].email}"
}

locals {
  verify_token_environment = var.verify_header_token ? {
    VERIFY_HEADER_TOKEN_SECRET = google_secret_manager_secret.verify_header_token[0].id
  } : {}
}
