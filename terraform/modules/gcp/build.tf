# What a Cloud Functions build needs, granted to the build account
# (local.build_service_account) and nothing more: read the source archive,
# push the image to this module's own repository, write build logs. The
# repository is the module's so the push can be granted on it alone; the
# default gcf-artifacts repository only appears after a first build.

resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "eventrelay function images (Cloud Functions builds)"
  format        = "DOCKER"
  labels        = var.labels

  depends_on = [google_project_service.api]
}

locals {
  build_member = "serviceAccount:${element(split("/", local.build_service_account), 3)}"
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = local.build_member
}

# Google's build-service-account guide names Storage Object Admin for
# reading the function source; granted on the source bucket only.
resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectAdmin"
  member = local.build_member
}

# Cloud Logging has no IAM binding below the project: the build's log
# writes can only be granted here.
resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = local.build_member

  depends_on = [google_project_service.api]
}
