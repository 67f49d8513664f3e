# A module planted with the faults TestModuleChecksCatchFaults expects the
# registry checks to find (read as the AWS module).

variable "backfill_rate" {
  type        = number
  description = "BACKFILL_RATE, with a default that is not the registry's."
  default     = 60
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL, declared but given to no function."
  default     = "info"
}

variable "mcm_timeout" {
  type        = string
  description = "MCM_TIMEOUT, given to the forwarder but not to backfill."
  default     = "10s"
}

locals {
  environment = {
    ingest    = { PUBSUB_TOPIC = "projects/p/topics/t" }
    forwarder = { MCM_TIMEOUT = var.mcm_timeout }
    verify    = {}
    backfill  = { BACKFILL_RATE = tostring(var.backfill_rate) }
  }
}
