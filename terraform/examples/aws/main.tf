# eventrelay on AWS with the module's defaults.
#   make dist
#   cd terraform/examples/aws && cp terraform.tfvars.example terraform.tfvars
#   terraform init && terraform apply
# One apply: the functions start with empty secrets and answer
# not_configured until their values are added (docs/deploy.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.28"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { app = "eventrelay" }
  }
}

module "eventrelay" {
  source = "../../modules/aws"

  name_prefix     = var.name_prefix
  lambda_zip      = coalesce(var.lambda_zip, "${path.root}/../../../dist/lambda-arm64.zip")
  mcm_base_url    = var.mcm_base_url
  mcm_platform_id = var.mcm_platform_id

  ledger_deletion_protection  = var.ledger_deletion_protection
  secret_recovery_window_days = var.secret_recovery_window_days
}
