variable "project_id" {
  type        = string
  description = "The Google Cloud project to deploy into."
}

variable "region" {
  type        = string
  description = "Region of the functions."
  default     = "us-central1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name."
  default     = "eventrelay"
}

variable "source_archive" {
  type        = string
  description = "Path of the source archive; null uses dist/gcp-source.zip of this checkout."
  default     = null
}

variable "mcm_base_url" {
  type        = string
  description = "The MCM Events API base URL Moloco gave you."
}

variable "mcm_platform_id" {
  type        = string
  description = "Your MCM platform id."
}

variable "firestore_delete_protection" {
  type        = bool
  description = "Refuse to delete the ledger database; set false, apply, then destroy (docs/deploy-gcp.md, Teardown)."
  default     = true
}
