terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28.0: aws_lambda_function_url adds the lambda:InvokeFunction
      # statement a public URL needs since October 2025.
      version = "~> 6.28"
    }
  }
}
