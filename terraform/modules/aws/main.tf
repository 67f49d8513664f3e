# eventrelay on AWS: four Lambda functions (provided.al2023, arm64) from one
# zip, an SQS events queue with a redrive policy to a dead-letter queue, the
# forwarder fed by an event source mapping that reports partial batch
# failures, empty Secrets Manager secrets, a DynamoDB ledger with TTL and an
# EventBridge Scheduler schedule running backfill. Each function has its own
# role whose policy names the exact resources it uses.

data "aws_caller_identity" "current" {}

locals {
  # EVENTRELAY_FUNCTION picks the function the one bootstrap binary runs.
  functions = {
    ingest    = { description = "eventrelay ingest: authenticates, validates and queues events" }
    forwarder = { description = "eventrelay forwarder: delivers queued events to MCM" }
    verify    = { description = "eventrelay verify: answers DFINERY verification callbacks" }
    backfill  = { description = "eventrelay backfill: resends dead-lettered events" }
  }

  settings = {
    ingest    = var.ingest
    forwarder = var.forwarder
    verify    = var.verify
    backfill  = var.backfill
  }

  # Functions with a public HTTPS endpoint (Function URL); each checks its
  # callers itself (API keys, signatures, DFINERY's ABX-HASH).
  public_functions = toset(["ingest", "verify"])

  # Created empty; values are added out of band (docs/deploy.md).
  secrets = {
    mcm_api_key         = "MCM platform API key"
    dfinery_keys        = "DFINERY HMAC key(s), a JSON list of UUIDs, newest first"
    ingest_api_keys     = "ingest API key hashes ({\"api_keys\":[...]})"
    ingest_signing_keys = "ingest request signing secrets ({\"signing_keys\":[...]})"
    pii_salt            = "identifier hashing salt (at least 16 bytes)"
  }

  # AWS's advice for an SQS event source: a visibility timeout of at least
  # six times the function timeout, plus the batching window.
  min_visibility_timeout   = 6 * var.forwarder.timeout_seconds + var.maximum_batching_window_in_seconds
  queue_visibility_timeout = coalesce(var.queue_visibility_timeout_seconds, local.min_visibility_timeout)

  # The forwarder dead-letters a message itself, with its reason, on the
  # receive before SQS would move it without one.
  forwarder_max_attempts = var.max_receive_count - 1

  # Sends in flight per invocation: the whole batch at once, within the MCM
  # client's 256 connections per host.
  forwarder_concurrency = min(var.batch_size, 256)

  # A run stops sending at its budget, then waits for the sends in flight
  # (MCM_TIMEOUT, 10 s) and deletes: keep 20 s.
  backfill_budget_seconds = endswith(var.backfill_time_budget, "m") ? tonumber(trimsuffix(var.backfill_time_budget, "m")) * 60 : tonumber(trimsuffix(var.backfill_time_budget, "s"))

  common_environment = {
    QUEUE_BACKEND   = "sqs"
    SECRETS_BACKEND = "aws"
    LOG_LEVEL       = var.log_level
  }

  pii_environment = merge(
    { PII_IP_POLICY = var.pii_ip_policy },
    var.pii_hash_fields == null ? {} : { PII_HASH_FIELDS = join(",", var.pii_hash_fields) },
  )

  ledger_environment = {
    LEDGER_BACKEND        = "dynamodb"
    LEDGER_DYNAMODB_TABLE = aws_dynamodb_table.ledger.name
  }

  platform_environment = {
    MCM_BASE_URL       = var.mcm_base_url
    MCM_PLATFORM_ID    = var.mcm_platform_id
    MCM_API_KEY_SECRET = aws_secretsmanager_secret.secret["mcm_api_key"].arn
  }

  # Go's garbage collector for ingest, which allocates per event: collect at
  # 5x the live heap instead of 2x (GOGC), but keep the runtime's memory
  # under 3/8 of the function's memory (GOMEMLIMIT, bytes; 96 MiB of 256 MB, which
  # held ingest's peak RSS near 110 MB in make bench-load), collecting as
  # often as that takes. docs/performance.md. extra_environment may override
  # both.
  ingest_gc_environment = {
    GOGC       = "400"
    GOMEMLIMIT = tostring(floor(var.ingest.memory_mb * 1048576 * 3 / 8))
  }

  # Secrets are named by ARN.
  environment = {
    ingest = merge(local.common_environment, local.pii_environment, local.ledger_environment, local.attestation_environment, local.ingest_gc_environment, {
      EVENTRELAY_FUNCTION        = "ingest"
      SQS_QUEUE_URL              = aws_sqs_queue.events.url
      INGEST_API_KEYS_SECRET     = aws_secretsmanager_secret.secret["ingest_api_keys"].arn
      INGEST_SIGNING_KEYS_SECRET = aws_secretsmanager_secret.secret["ingest_signing_keys"].arn
      PII_SALT_SECRET            = aws_secretsmanager_secret.secret["pii_salt"].arn
    }, local.governance_environment.ingest, local.archive_environment.ingest, local.settings_environment.ingest, lookup(var.extra_environment, "ingest", {}))

    forwarder = merge(local.common_environment, local.platform_environment, {
      EVENTRELAY_FUNCTION    = "forwarder"
      SQS_QUEUE_URL          = aws_sqs_queue.events.url
      DEADLETTER_QUEUE_URL   = aws_sqs_queue.deadletter.url
      FORWARDER_MAX_ATTEMPTS = tostring(local.forwarder_max_attempts)
      FORWARDER_CONCURRENCY  = tostring(local.forwarder_concurrency)
    }, local.governance_environment.forwarder, local.settings_environment.forwarder, lookup(var.extra_environment, "forwarder", {}))

    verify = merge(local.common_environment, local.pii_environment, local.ledger_environment, {
      EVENTRELAY_FUNCTION  = "verify"
      DFINERY_KEYS_SECRET  = aws_secretsmanager_secret.secret["dfinery_keys"].arn
      DFINERY_KEY_ENCODING = var.dfinery_key_encoding
      PII_SALT_SECRET      = aws_secretsmanager_secret.secret["pii_salt"].arn
      VERIFY_EVENT_MAP     = var.verify_event_map
    }, local.settings_environment.verify, lookup(var.extra_environment, "verify", {}))

    backfill = merge(local.common_environment, local.platform_environment, {
      EVENTRELAY_FUNCTION  = "backfill"
      BACKFILL_QUEUE_URL   = aws_sqs_queue.deadletter.url
      DEADLETTER_QUEUE_URL = aws_sqs_queue.deadletter.url
      BACKFILL_TIME_BUDGET = var.backfill_time_budget
      BACKFILL_RATE        = tostring(var.backfill_rate)
    }, local.governance_environment.backfill, local.archive_environment.backfill, local.settings_environment.backfill, lookup(var.extra_environment, "backfill", {}))
  }
}

resource "aws_cloudwatch_log_group" "fn" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "fn" {
  for_each = local.functions

  function_name    = "${var.name_prefix}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.fn[each.key].arn
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"
  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)

  memory_size                    = local.settings[each.key].memory_mb
  timeout                        = local.settings[each.key].timeout_seconds
  reserved_concurrent_executions = local.settings[each.key].reserved_concurrency

  environment {
    variables = local.environment[each.key]
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }

  tags = var.tags

  # Grants first: a function checks its queue and reads its secrets at
  # start (the attestation and erase keys included), and its first
  # requests use the ledger, the catalog and the suppressions. With the
  # archive, ingest publishes to the topic only once the topic delivers to
  # the events queue (an event published before would reach no forwarder)
  # and to the archive.
  depends_on = [
    aws_sns_topic_subscription.events_queue,
    aws_sns_topic_subscription.archive,
    aws_iam_role_policy.fn,
    aws_iam_role_policy.ingest_attestation,
    aws_iam_role_policy.ingest_erasure,
    aws_iam_role_policy.ingest_erase_keys,
    aws_iam_role_policy.verify_header_token,
    aws_iam_role_policy.ingest_catalog,
    aws_iam_role_policy.read_suppressions,
    aws_iam_role_policy.backfill_archive,
  ]
}

# authorization_type NONE: from provider 6.28.0 the URL adds both
# statements a public URL needs itself, FunctionURLAllowPublicAccess
# (lambda:InvokeFunctionUrl) and FunctionURLAllowInvokeAction
# (lambda:InvokeFunction, only through the URL). An aws_lambda_permission
# for either would race it (ResourceConflictException): there is none.
resource "aws_lambda_function_url" "public" {
  for_each = local.public_functions

  function_name      = aws_lambda_function.fn[each.key].function_name
  authorization_type = "NONE"
}
