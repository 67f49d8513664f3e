# Data governance (docs/data-governance.md): consent at ingest, erasure on
# request (POST /erase on ingest, suppressions in the ledger table), and
# enrichment from the operator's item catalog.
#
# The variables are declared here, not in variables.tf, to keep this
# feature's Terraform in one file while variables.tf is being reworked; move
# them there when the two meet (hence the tflint-ignore annotations).

# tflint-ignore: terraform_standard_module_structure
variable "consent_default" {
  type        = string
  description = "CONSENT_DEFAULT: what an event without a consent field means, granted or denied."
  default     = "granted"

  validation {
    condition     = contains(["granted", "denied"], var.consent_default)
    error_message = "consent_default must be granted or denied."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "consent_sources" {
  type        = map(string)
  description = "CONSENT_SOURCES: per ingest source, what an event without a consent field means (granted or denied); overrides consent_default."
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.consent_sources) : contains(["granted", "denied"], v)])
    error_message = "consent_sources values must be granted or denied."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "erase_enabled" {
  type        = bool
  description = "Serve POST /erase on ingest, behind the keys in the erase-keys secret (created empty; add keys out of band)."
  default     = true
}

# tflint-ignore: terraform_standard_module_structure
variable "erase_retention" {
  type        = string
  description = "ERASE_RETENTION: how long an erased person's suppression lasts (their events are refused and dropped meanwhile)."
  default     = "26280h"

  validation {
    condition     = can(regex("^[0-9]+h$", var.erase_retention))
    error_message = "erase_retention must be a duration in hours, e.g. 26280h (three years)."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "suppression_cache" {
  type        = string
  description = "SUPPRESSION_CACHE: how long an instance may keep a \"not erased\" answer; an erasure takes effect everywhere within it. 0s reads the ledger for every event."
  default     = "30s"

  validation {
    condition     = can(regex("^[0-9]+(s|m)$", var.suppression_cache))
    error_message = "suppression_cache must be a duration in seconds or minutes, e.g. 30s."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "catalog_enabled" {
  type        = bool
  description = "Create the item catalog table (partition key item_id) and enrich events at ingest from it; the operator keeps its items."
  default     = false
}

# tflint-ignore: terraform_standard_module_structure
variable "catalog_precedence" {
  type        = string
  description = "CATALOG_PRECEDENCE: client (the client's price, group and seller win; the catalog fills gaps) or catalog (the catalog's win)."
  default     = "client"

  validation {
    condition     = contains(["client", "catalog"], var.catalog_precedence)
    error_message = "catalog_precedence must be client or catalog."
  }
}

# tflint-ignore: terraform_standard_module_structure
variable "catalog_cache" {
  type        = string
  description = "CATALOG_CACHE: how long an instance keeps a catalog answer (found or not)."
  default     = "5m"

  validation {
    condition     = can(regex("^[0-9]+(s|m|h)$", var.catalog_cache))
    error_message = "catalog_cache must be a duration, e.g. 5m."
  }
}

# The item catalog: one item per item_id with price (a number), currency,
# item_group_id and seller_id. The functions only read it. An expires_at
# attribute (epoch seconds) on an item retires it through DynamoDB's TTL;
# items without one stay.
resource "aws_dynamodb_table" "catalog" {
  count = var.catalog_enabled ? 1 : 0

  name         = "${var.name_prefix}-catalog"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "item_id"

  attribute {
    name = "item_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}

# The erase keys: created empty, like every secret here; one key per line.
resource "aws_secretsmanager_secret" "erase_keys" {
  count = var.erase_enabled ? 1 : 0

  name                    = "${var.name_prefix}/erase-keys"
  description             = "Keys that may call POST /erase on ingest, one per line"
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# ingest: the erasure (find a person's items, delete them, record the
# suppression) and the suppression look-ups.
data "aws_iam_policy_document" "ingest_erasure" {
  statement {
    sid       = "EraseAndSuppress"
    actions   = ["dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

resource "aws_iam_role_policy" "ingest_erasure" {
  name   = "${var.name_prefix}-ingest-erasure"
  role   = aws_iam_role.fn["ingest"].id
  policy = data.aws_iam_policy_document.ingest_erasure.json
}

data "aws_iam_policy_document" "ingest_erase_keys" {
  count = var.erase_enabled ? 1 : 0

  statement {
    sid       = "ReadEraseKeys"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.erase_keys[0].arn]
  }
}

resource "aws_iam_role_policy" "ingest_erase_keys" {
  count = var.erase_enabled ? 1 : 0

  name   = "${var.name_prefix}-ingest-erase-keys"
  role   = aws_iam_role.fn["ingest"].id
  policy = data.aws_iam_policy_document.ingest_erase_keys[0].json
}

# Read only: nothing here writes the catalog.
data "aws_iam_policy_document" "ingest_catalog" {
  count = var.catalog_enabled ? 1 : 0

  statement {
    sid       = "ReadCatalog"
    actions   = ["dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.catalog[0].arn]
  }
}

resource "aws_iam_role_policy" "ingest_catalog" {
  count = var.catalog_enabled ? 1 : 0

  name   = "${var.name_prefix}-ingest-catalog"
  role   = aws_iam_role.fn["ingest"].id
  policy = data.aws_iam_policy_document.ingest_catalog[0].json
}

# The forwarder and backfill look the suppressions up, read-only.
data "aws_iam_policy_document" "read_suppressions" {
  statement {
    sid       = "ReadSuppressions"
    actions   = ["dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

resource "aws_iam_role_policy" "read_suppressions" {
  for_each = toset(["forwarder", "backfill"])

  name   = "${var.name_prefix}-${each.key}-suppressions"
  role   = aws_iam_role.fn[each.key].id
  policy = data.aws_iam_policy_document.read_suppressions.json
}

locals {
  suppression_environment = merge(local.ledger_environment, { SUPPRESSION_CACHE = var.suppression_cache })

  governance_environment = {
    ingest = merge(
      {
        CONSENT_DEFAULT   = var.consent_default
        SUPPRESSION_CACHE = var.suppression_cache
        ERASE_RETENTION   = var.erase_retention
      },
      length(var.consent_sources) == 0 ? {} : { CONSENT_SOURCES = join(",", [for k, v in var.consent_sources : "${k}=${v}"]) },
      var.erase_enabled ? { ERASE_KEYS_SECRET = aws_secretsmanager_secret.erase_keys[0].arn } : {},
      var.catalog_enabled ? {
        CATALOG_BACKEND        = "dynamodb"
        CATALOG_DYNAMODB_TABLE = aws_dynamodb_table.catalog[0].name
        CATALOG_PRECEDENCE     = var.catalog_precedence
        CATALOG_CACHE          = var.catalog_cache
      } : {},
    )
    forwarder = local.suppression_environment
    backfill  = local.suppression_environment
  }
}
