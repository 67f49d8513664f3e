# Data governance (docs/data-governance.md): consent at ingest, erasure on
# request (POST /erase on ingest, suppressions in the ledger database), and
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
  description = "Enrich events at ingest from the item catalog, a Firestore collection in the ledger database that the operator keeps."
  default     = false
}

# tflint-ignore: terraform_standard_module_structure
variable "catalog_collection" {
  type        = string
  description = "CATALOG_FIRESTORE_COLLECTION: the catalog collection; one document per item id with price, currency, item_group_id, seller_id."
  default     = "eventrelay-catalog"
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

# The erase keys: created empty, like every secret here; one key per line.
resource "google_secret_manager_secret" "erase_keys" {
  count = var.erase_enabled ? 1 : 0

  project   = var.project_id
  secret_id = "${var.name_prefix}-erase-keys"
  labels    = var.labels

  annotations = {
    purpose = "Keys that may call POST /erase on ingest, one per line"
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_iam_member" "ingest_reads_erase_keys" {
  count = var.erase_enabled ? 1 : 0

  project   = var.project_id
  secret_id = google_secret_manager_secret.erase_keys[0].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.sa["ingest"].email}"
}

# The forwarder and backfill read the suppressions, which live in the
# ledger database: read-only, with the same one-database condition as the
# ledger grants (iam.tf). ingest's datastore.user there already covers the
# erasure's deletes and the catalog's reads; nothing writes the catalog.
resource "google_project_iam_member" "suppressions" {
  for_each = toset(["forwarder", "backfill"])

  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = "serviceAccount:${google_service_account.sa[each.key].email}"

  condition {
    title       = "${var.name_prefix}-suppressions-only"
    description = "Only the eventrelay ledger database"
    expression  = "resource.name == \"projects/${var.project_id}/databases/${local.firestore_database}\""
  }
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
      var.erase_enabled ? { ERASE_KEYS_SECRET = google_secret_manager_secret.erase_keys[0].id } : {},
      var.catalog_enabled ? {
        CATALOG_BACKEND              = "firestore"
        CATALOG_FIRESTORE_DATABASE   = local.firestore_database
        CATALOG_FIRESTORE_COLLECTION = var.catalog_collection
        CATALOG_PRECEDENCE           = var.catalog_precedence
        CATALOG_CACHE                = var.catalog_cache
      } : {},
    )
    forwarder = local.suppression_environment
    backfill  = local.suppression_environment
  }
}
