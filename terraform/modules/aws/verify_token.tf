# verify's optional static header token (VERIFY_HEADER_TOKEN_SECRET): a
# secret, created empty like every secret here, that only verify reads;
# DFINERY then sends its value in VERIFY_TOKEN_HEADER beside the signature.

# tflint-ignore: terraform_standard_module_structure
variable "verify_header_token" {
  type        = bool
  description = "VERIFY_HEADER_TOKEN_SECRET: create the verify-header-token secret (empty; add the token out of band) and make verify require the token it holds in verify_token_header."
  default     = false
}

resource "aws_secretsmanager_secret" "verify_header_token" {
  count = var.verify_header_token ? 1 : 0

  name                    = "${var.name_prefix}/verify-header-token"
  description             = "The static token DFINERY sends verify in its token header"
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

data "aws_iam_policy_document" "verify_header_token" {
  count = var.verify_header_token ? 1 : 0

  statement {
    sid       = "ReadHeaderToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.verify_header_token[0].arn]
  }
}

resource "aws_iam_role_policy" "verify_header_token" {
  count = var.verify_header_token ? 1 : 0

  name   = "${var.name_prefix}-verify-header-token"
  role   = aws_iam_role.fn["verify"].id
  policy = data.aws_iam_policy_document.verify_header_token[0].json
}

locals {
  verify_token_environment = var.verify_header_token ? {
    VERIFY_HEADER_TOKEN_SECRET = aws_secretsmanager_secret.verify_header_token[0].arn
  } : {}
}
