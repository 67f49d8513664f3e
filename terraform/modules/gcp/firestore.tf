# The ledger verify reads: a Firestore (native) database, a TTL policy on
# expires_at, and the two composite indexes its look-ups need.

resource "google_firestore_database" "ledger" {
  count = var.create_firestore_database ? 1 : 0

  project                 = var.project_id
  name                    = local.firestore_database_name
  location_id             = coalesce(var.firestore_location, var.region)
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = var.firestore_delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # terraform destroy deletes the database and its data (the provider's
  # default, ABANDON, would keep it, and a later apply under the same name
  # would fail: the name stays taken). Delete protection
  # (firestore_delete_protection) still refuses until it is turned off.
  deletion_policy = "DELETE"

  depends_on = [google_project_service.api]
}

# Firestore deletes an entry some time after expires_at (verify also checks
# expiry itself). No single-field index on the TTL field: it only grows.
resource "google_firestore_field" "ledger_ttl" {
  project    = var.project_id
  database   = local.firestore_database
  collection = var.ledger_collection
  field      = "expires_at"

  ttl_config {}

  index_config {}
}

# Look-up by device: array-contains on device_ids, range on t.
resource "google_firestore_index" "ledger_by_device" {
  project    = var.project_id
  database   = local.firestore_database
  collection = var.ledger_collection

  fields {
    field_path   = "device_ids"
    array_config = "CONTAINS"
  }

  fields {
    field_path = "t"
    order      = "ASCENDING"
  }
}

# Look-up by user: equality on user_id, range on t.
resource "google_firestore_index" "ledger_by_user" {
  project    = var.project_id
  database   = local.firestore_database
  collection = var.ledger_collection

  fields {
    field_path = "user_id"
    order      = "ASCENDING"
  }

  fields {
    field_path = "t"
    order      = "ASCENDING"
  }
}
