# verify refuses to start when VERIFY_EVENT_MAP asks it to confirm an event
# type that ingest does not record (LEDGER_EVENT_TYPES): every such callback
# could only answer not_found. The same check here makes plan fail first.
locals {
  verify_event_map_types = [
    for pair in split(",", var.verify_event_map) :
    upper(trimspace(split("=", pair)[1])) if length(split("=", pair)) == 2
  ]
  verify_ledger_types     = [for t in var.ledger_event_types : upper(trimspace(t))]
  verify_unrecorded_types = [for t in local.verify_event_map_types : t if !contains(local.verify_ledger_types, t)]
}

resource "terraform_data" "verify_settings" {
  lifecycle {
    precondition {
      condition     = length(local.verify_unrecorded_types) == 0
      error_message = "verify_event_map (VERIFY_EVENT_MAP) confirms ${join(", ", local.verify_unrecorded_types)}, which ledger_event_types (LEDGER_EVENT_TYPES) does not record, so verify would refuse to start: add the type to ledger_event_types or drop the pair."
    }
  }
}
