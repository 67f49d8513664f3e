# eventrelay on Google Cloud: the module (module.tf) with every one of its
# variables passed on (variables.tf; both generated from the module), so any
# of them set in terraform.tfvars takes effect, and unset the module's
# default holds.
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

# The module creates the Pub/Sub, Cloud Scheduler and Monitoring service
# agents with google-beta (google_project_service_identity).
provider "google-beta" {
  project = var.project_id
  region  = var.region
}
