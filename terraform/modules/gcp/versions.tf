terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    # google_project_service_identity (the service agents) is beta-only.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 7.0"
    }
    # time_sleep: the bounded waits a first apply needs (a new service
    # agent, new log-based metrics, new grants; main.tf, monitoring.tf,
    # functions.tf).
    time = {
      source  = "hashicorp/time"
      version = "~> 0.14"
    }
  }
}
