# The secrets are created empty: no version, no value in Terraform or its
# state. Their values are added out of band (docs/deploy.md).

resource "aws_secretsmanager_secret" "secret" {
  for_each = local.secrets

  name                    = "${var.name_prefix}/${replace(each.key, "_", "-")}"
  description             = each.value
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}
