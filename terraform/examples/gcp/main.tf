# eventrelay on Google Cloud with the module's defaults.
#   make dist
#   cd terraform/examples/gcp && cp terraform.tfvars.example terraform.tfvars
#   terraform init && terraform apply
# One apply: the functions start with empty secrets and answer
# not_configured until their values are added (docs/deploy.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 7.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

# The module creates the Pub/Sub and Cloud Scheduler service agents with
# google-beta (google_project_service_identity).
provider "google-beta" {
  project = var.project_id
  region  = var.region
}

module "eventrelay" {
  source = "../../modules/gcp"

  project_id      = var.project_id
  region          = var.region
  name_prefix     = var.name_prefix
  source_archive  = coalesce(var.source_archive, "${path.root}/../../../dist/gcp-source.zip")
  mcm_base_url    = var.mcm_base_url
  mcm_platform_id = var.mcm_platform_id
  labels          = { app = "eventrelay" }

  firestore_delete_protection = var.firestore_delete_protection
}
