# tflint with its bundled Terraform ruleset only: no plugin is downloaded
# (`tflint --init` is never run; cloud rulesets cannot be fetched here).
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
