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
