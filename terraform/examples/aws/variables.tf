variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "us-east-1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name."
  default     = "eventrelay"
}

variable "lambda_zip" {
  type        = string
  description = "Path of the Lambda zip; null uses dist/lambda-arm64.zip of this checkout."
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

variable "ledger_deletion_protection" {
  type        = bool
  description = "Refuse to delete the ledger table; set false, apply, then destroy (docs/deploy-aws.md, Teardown)."
  default     = true
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret can be restored; 0 before a destroy that will be followed by a new apply under the same name_prefix."
  default     = 7
}
