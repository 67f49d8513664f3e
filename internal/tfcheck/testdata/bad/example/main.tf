# A module call that leaves out required variables, passes one the module
# does not have, and reads an output it does not define; and, as the
# examples did before issue 24, leaves optional variables out (a value in
# terraform.tfvars is then dropped), sets one to a constant, and passes one
# from a variable whose default is not the module's.

variable "log_level" {
  type        = string
  description = "a default that is not the module's"
  default     = "debug"
}

module "eventrelay" {
  source = "../../../../../terraform/modules/aws"

  mcm_base_url = "https://example-evt.mcm-api.moloco.com"
  bogus        = 1
  name_prefix  = "fixed"
  log_level    = var.log_level
}

output "u" {
  description = "an output the module lacks"
  value       = module.eventrelay.no_such_output
}
