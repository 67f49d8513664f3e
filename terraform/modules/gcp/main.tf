# eventrelay on Google Cloud: four Cloud Functions (gen2) built from one
# source archive, a Pub/Sub topic pushed to the forwarder with retries and a
# dead-letter topic, empty Secret Manager secrets, a Firestore ledger and a
# Cloud Scheduler job running backfill. Every identity is its own service
# account, granted roles on the one resource it needs.

locals {
  # The four functions, with the entry point each one registers in
  # functions.go (Forward: the Pub/Sub push handler) and who may reach it.
  functions = {
    ingest = {
      entry_point = "Ingest"
      description = "eventrelay ingest: authenticates, validates and queues events"
      ingress     = "ALLOW_ALL"
    }
    forwarder = {
      entry_point = "Forward"
      description = "eventrelay forwarder: Pub/Sub push endpoint delivering events to MCM"
      # Pub/Sub push and Cloud Scheduler from this project count as internal.
      ingress = "ALLOW_INTERNAL_ONLY"
    }
    verify = {
      entry_point = "Verify"
      description = "eventrelay verify: answers DFINERY verification callbacks"
      ingress     = "ALLOW_ALL"
    }
    backfill = {
      entry_point = "Backfill"
      description = "eventrelay backfill: resends dead-lettered events"
      ingress     = "ALLOW_INTERNAL_ONLY"
    }
  }

  scaling = {
    ingest    = var.ingest
    forwarder = var.forwarder
    verify    = var.verify
    backfill  = var.backfill
  }

  # Service accounts: one per function, one Pub/Sub pushes as, one the
  # scheduler calls backfill as.
  identities = {
    ingest    = "eventrelay ingest"
    forwarder = "eventrelay forwarder"
    verify    = "eventrelay verify"
    backfill  = "eventrelay backfill"
    push      = "eventrelay Pub/Sub push to the forwarder"
    scheduler = "eventrelay scheduler calling backfill"
  }

  # Created empty; values are added out of band (docs/deploy.md).
  secrets = {
    mcm_api_key         = "MCM platform API key"
    dfinery_keys        = "DFINERY HMAC key(s), a JSON list of UUIDs, newest first"
    ingest_api_keys     = "ingest API key hashes ({\"api_keys\":[...]})"
    ingest_signing_keys = "ingest request signing secrets ({\"signing_keys\":[...]})"
    pii_salt            = "identifier hashing salt (at least 16 bytes)"
  }

  # Which function reads which secret.
  secret_readers = {
    ingest    = ["ingest_api_keys", "ingest_signing_keys", "pii_salt"]
    forwarder = ["mcm_api_key"]
    verify    = ["dfinery_keys", "pii_salt"]
    backfill  = ["mcm_api_key"]
  }
  secret_access = merge([
    for fn, names in local.secret_readers : { for s in names : "${fn}/${s}" => { fn = fn, secret = s } }
  ]...)

  # The service agents, named by the address Google documents for each
  # (service-<project number>@gcp-sa-<agent>.iam.gserviceaccount.com),
  # read through time_sleep.service_agents so that every grant naming one
  # comes after the agent exists and has had time to reach IAM.
  # google_project_service_identity's own email is not used: the provider
  # sets it only when the API's answer carries it (hashicorp/
  # terraform-provider-google#19970, #21931), and an empty one makes the
  # member "serviceAccount:".
  project_number   = time_sleep.service_agents.triggers["project_number"]
  pubsub_agent     = "serviceAccount:service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  scheduler_agent  = "serviceAccount:service-${local.project_number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com"
  monitoring_agent = "serviceAccount:service-${local.project_number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"

  # Builds run as var.build_service_account, or as the module's own build
  # account: new organisations no longer grant the default compute account
  # what a build needs.
  build_service_account = coalesce(var.build_service_account, one(google_service_account.build[*].id))

  events_subscription_name = "${var.name_prefix}-events-forwarder"

  # The ledger database's id: <name_prefix>-ledger unless firestore_database
  # names one, so two deployments in one project do not share it.
  firestore_database_name = coalesce(var.firestore_database, "${var.name_prefix}-ledger")
  firestore_database      = var.create_firestore_database ? google_firestore_database.ledger[0].name : local.firestore_database_name

  # Retry bounds of the push subscription: Moloco asks for at least 5 s
  # before the first retry, then exponential backoff.
  retry_minimum_backoff = "10s"
  retry_maximum_backoff = "600s"

  # The forwarder dead-letters a message itself, with its reason, on the
  # attempt before Pub/Sub would move it without one.
  forwarder_max_attempts = var.max_delivery_attempts - 1

  # A run stops sending at its budget, then waits for the sends in flight
  # (MCM_TIMEOUT, 10 s) and acknowledges: keep 20 s.
  backfill_budget_seconds = endswith(var.backfill_time_budget, "m") ? tonumber(trimsuffix(var.backfill_time_budget, "m")) * 60 : tonumber(trimsuffix(var.backfill_time_budget, "s"))

  apis = [
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "artifactregistry.googleapis.com",
    # Project IAM grants and the custom role (setIamPolicy on the project).
    "cloudresourcemanager.googleapis.com",
    # Service accounts.
    "iam.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "api" {
  for_each = var.enable_apis ? toset(local.apis) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "sa" {
  for_each = local.identities

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = each.value

  depends_on = [google_project_service.api]
}

resource "google_service_account" "build" {
  count = var.build_service_account == null ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "eventrelay Cloud Functions builds"

  depends_on = [google_project_service.api]
}

# The service agents the module grants roles to: Pub/Sub (dead-lettering,
# push tokens), Cloud Scheduler (the backfill job's token) and Cloud
# Monitoring's notification agent, which publishes alerts (monitoring.tf).
# Created once their APIs are on, before any grant names them: a grant to
# an agent that does not exist yet fails with "service account does not
# exist". google-beta only; destroying one is a no-op (the agent stays with
# the project).
resource "google_project_service_identity" "agent" {
  provider = google-beta
  for_each = {
    pubsub     = "pubsub.googleapis.com"
    scheduler  = "cloudscheduler.googleapis.com"
    monitoring = "monitoring.googleapis.com"
  }

  project = var.project_id
  service = each.value

  depends_on = [google_project_service.api, google_project_service.monitoring]
}

# The project number, for the agents' addresses. It is read through the id
# of the Cloud Resource Manager API's enablement: on a fresh project that id
# is unknown until the API is on, which defers the read to apply (at plan
# time the API may still be off); afterwards it is known and the read
# happens at plan, so nothing downstream changes.
data "google_project" "this" {
  project_id = var.enable_apis ? split("/", google_project_service.api["cloudresourcemanager.googleapis.com"].id)[0] : var.project_id
}

# A new agent takes a while to be grantable: IAM answers "service account
# does not exist" until it has propagated (Google: access changes take
# typically 2 minutes, up to 7), and the provider retries that error only
# when the policy changed meanwhile. Every agent grant reads the project
# number through this wait (local.project_number), so it starts 2
# minutes after the last agent was created. Needs hashicorp/time
# (versions.tf); replaced, and so waited for again, when the agents change.
resource "time_sleep" "service_agents" {
  create_duration = "2m"

  triggers = {
    project_number = data.google_project.this.number
    agents         = join(",", sort([for a in google_project_service_identity.agent : a.service]))
  }
}
