# eventrelay on AWS: the module (module.tf) with every one of its
# variables passed on (variables.tf; both generated from the module), so any
# of them set in terraform.tfvars takes effect, and unset the module's
# default holds.
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

# The example's own: the module deploys into the provider's region. Here,
# not in variables.tf, which is generated from the module.
# tflint-ignore: terraform_standard_module_structure
variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "us-east-1"
}
