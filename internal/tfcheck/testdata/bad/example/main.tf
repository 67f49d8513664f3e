# A module call that leaves out required variables, passes one the module
# does not have, and reads an output it does not define.

module "eventrelay" {
  source = "../../../../../terraform/modules/aws"

  mcm_base_url = "https://example-evt.mcm-api.moloco.com"
  bogus        = 1
}

output "u" {
  description = "an output the module lacks"
  value       = module.eventrelay.no_such_output
}
