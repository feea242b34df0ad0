# The code-generation service for one stage: storage, the API function, the HTTP API, and
# asynchronous jobs (queue, dead-letter queue, table, worker function).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The stage's rules that span settings, checked at plan time before anything changes. On a
# resource of their own, not on the caller identity they once sat on: a data source whose
# conditions read resources with pending changes is read only at apply, and the bucket's
# name (which has the account in it) would then be unknown and the bucket replaced.
resource "terraform_data" "stage_rules" {
  lifecycle {
    precondition {
      condition     = local.max_tokens_limit <= local.answerable_tokens
      error_message = "max_tokens_limit (${local.max_tokens_limit}) is more than the model writes in a synchronous request's time: ${local.answerable_tokens} tokens at model_tokens_per_second (${var.model_tokens_per_second}) in timeout - ${local.sync_overhead_seconds} s. A request near the limit would time out, and be paid for. Lower it (larger answers are jobs), or set model_tokens_per_second to your model's measured speed."
    }
    precondition {
      condition     = length(jsonencode(local.function_environment)) <= 4096
      error_message = "The functions' environment would be ${length(jsonencode(local.function_environment))} bytes, more than Lambda's 4 KB: shorten system_prompt."
    }
    precondition {
      condition     = local.job_deadline_seconds <= var.job_ttl_days * 86400
      error_message = "A job may run until its deadline, ${local.job_deadline_seconds} s ((job_max_receive_count + 1) x job_visibility_timeout), but its record expires after job_ttl_days (${var.job_ttl_days} days = ${var.job_ttl_days * 86400} s): it could still be running after it reads 404. Raise job_ttl_days, or lower job_visibility_timeout or job_max_receive_count."
    }
    precondition {
      condition     = var.default_max_tokens <= local.max_tokens_limit
      error_message = "default_max_tokens (${var.default_max_tokens}) must not exceed the synchronous max_tokens limit (${local.max_tokens_limit})."
    }
  }
}

locals {
  name = "${var.project}-${var.stage}"
  # Account and region in the bucket name keep stages and accounts from colliding.
  bucket_name = lower("${local.name}-${data.aws_caller_identity.current.account_id}-${var.aws_region}")
  # The API's routes: the function's route table (lambda/codegen/http/routes.py) and the contract
  # (lambda/openapi.yaml) know the same ones; tests/unit/function/test_routes.py holds them equal.
  routes = {
    generate   = "PUT /code-generation"
    submit_job = "POST /code-generation/jobs"
    read_job   = "GET /code-generation/jobs/{id}"
  }
  # Submitting and reading jobs is quick (a count, a record, a message; a record and an
  # object): the job routes' function has seconds, not the generator's half minute.
  jobs_api_timeout = 10
  # Where the functions store code; a job's object is under jobs/ (codegen/generation/storage.py's
  # JOBS_FOLDER), which both read back: the worker to adopt what a cut-off delivery stored,
  # the API to answer a finished job's code.
  output_prefix = "code-output/"
  # Which keys each code-writing function stores at (codegen/generation/storage.py's object_key and
  # job_object_key; tests/unit/test_stored_keys.py holds them equal): a synchronous answer
  # under its date (YYYY/MM/DD/), a job's under jobs/. Neither may write the other's.
  stored_answer_keys = "????/??/??/*"
  stored_job_keys    = "jobs/*"
  metrics_namespace  = "CodeGen"
  # The alarm topic (modules/monitoring names it) and its key, known before either exists:
  # the functions publish a caller's budget alert there.
  alarm_topic_arn      = "arn:${data.aws_partition.current.partition}:sns:${var.aws_region}:${data.aws_caller_identity.current.account_id}:${local.name}-alarms"
  alarm_topic_key_arn  = coalesce(local.kms_key_arn, one(module.alarm_topic_key[*].key_arn))
  stored_jobs_code_arn = "${module.storage.bucket_arn}/${local.output_prefix}${local.stored_job_keys}"
  # What a synchronous request's time leaves the model: the function's timeout less the
  # store's budget (3.5 s), a connection (3 s), the answer (0.5 s) and a first token (1 s),
  # as codegen/generation/producer.py and codegen/settings.py spend them.
  sync_overhead_seconds = 8
  # At least 1: a function too short for any model call (a stub's) still plans.
  answerable_tokens      = max(1, floor(var.model_tokens_per_second * (var.timeout - local.sync_overhead_seconds)))
  max_tokens_limit       = coalesce(var.max_tokens_limit, local.answerable_tokens)
  job_visibility_timeout = coalesce(var.job_visibility_timeout, 6 * var.worker_timeout)
  # The worst case for a job to end: every allowed delivery, each hidden for the visibility
  # timeout, and one more of waiting (a backlog, throttling). A job not finished by then is
  # recorded failed (codegen.jobs.api / codegen.jobs.worker); messages are kept longer.
  job_deadline_seconds = (var.job_max_receive_count + 1) * local.job_visibility_timeout
  # The stage's own key (kms_key): created here, named, or none (AWS-managed keys).
  kms_key_arn = var.kms_key == "create" ? module.stage_key[0].key_arn : var.kms_key
  optional_settings = {
    DEFAULT_TEMPERATURE = var.default_temperature
    DEFAULT_TOP_P       = var.default_top_p
    DEFAULT_TOP_K       = var.default_top_k
  }
  # What the three functions read (codegen/settings.py); an empty value means "send none".
  function_environment = merge(
    { for name, value in local.optional_settings : name => value == null ? "" : tostring(value) },
    {
      DEFAULT_MAX_TOKENS     = tostring(var.default_max_tokens)
      MAX_TOKENS_LIMIT       = tostring(local.max_tokens_limit)
      ASYNC_MAX_TOKENS_LIMIT = tostring(var.async_max_tokens_limit)
      LOG_PROMPTS            = tostring(var.log_prompts)
      JOBS_TABLE             = module.jobs.table_name
      JOBS_QUEUE_URL         = module.jobs.queue_url
      JOB_TTL_DAYS           = tostring(var.job_ttl_days)
      JOB_MAX_RECEIVE_COUNT  = tostring(var.job_max_receive_count)
      JOB_DEADLINE_SECONDS   = tostring(local.job_deadline_seconds)
      JOBS_OWNER_INDEX       = module.jobs.owner_index_name
      # Read where jobs are submitted: more unfinished jobs of one caller are refused (429).
      MAX_UNFINISHED_JOBS_PER_CALLER = tostring(var.max_unfinished_jobs_per_caller)
      # Read where requests are answered (the API function and the job routes' function: a
      # keyed job submission replays its job); one environment keeps the three equal.
      IDEMPOTENCY_TABLE          = module.idempotency.table_name
      IDEMPOTENCY_WINDOW_SECONDS = tostring(var.idempotency_window_seconds)
      # Spend per caller (codegen/spend/): its table, the default budget, the stage's prices,
      # and the topic a caller near its budget is announced on.
      SPEND_TABLE                  = module.spend.table_name
      SPEND_DEFAULT_BUDGET         = var.spend_budget == null ? "" : jsonencode(var.spend_budget)
      SPEND_RETENTION_DAYS         = tostring(var.spend_retention_days)
      SPEND_ALERT_SHARE            = tostring(var.spend_alert_share)
      PRICE_PER_1000_INPUT_TOKENS  = tostring(var.price_per_1000_input_tokens)
      PRICE_PER_1000_OUTPUT_TOKENS = tostring(var.price_per_1000_output_tokens)
      ALERT_TOPIC_ARN              = local.alarm_topic_arn
      # Its metrics' namespace and Stage dimension (codegen/telemetry/metrics.py); the monitoring
      # module's alarms and dashboard read the same.
      STAGE             = var.stage
      METRICS_NAMESPACE = local.metrics_namespace
      # The stage's prompt template (codegen/generation/prompt.py).
      SYSTEM_PROMPT = var.system_prompt
      # One repair attempt for generated code that does not parse (codegen/generation/repair.py).
      SYNTAX_REPAIR = tostring(var.syntax_repair)
      # Sent with every model call beside top_k (codegen/generation/bedrock.py).
      MODEL_REQUEST_FIELDS = jsonencode(var.model_request_fields)
    },
  )
}

module "stage_key" {
  source = "./modules/kms_key"
  count  = var.kms_key == "create" ? 1 : 0

  name    = local.name
  purpose = "the stage's code, jobs, answers, logs and alarms"
  # Known before the groups exist: the key comes first, the groups are created with it.
  log_group_names = concat(
    [for name in values(local.function_names) : "/aws/lambda/${name}"],
    ["/aws/apigateway/${local.name}/${var.stage}"],
  )
  # 30 days to cancel a deletion: until then, everything it encrypted can be read again.
  deletion_window_in_days = 30
}

# Without a stage key, the alarm topic still needs a customer-managed one: alarms cannot
# publish with the AWS-managed aws/sns key.
module "alarm_topic_key" {
  source = "./modules/kms_key"
  count  = var.kms_key == null ? 1 : 0

  name                    = "${local.name}-alarms"
  purpose                 = "the alarm topic's messages"
  log_group_names         = []
  deletion_window_in_days = 7
}

module "storage" {
  source = "./modules/storage"

  bucket_name                        = local.bucket_name
  force_destroy                      = var.bucket_force_destroy && !var.protected_stage
  enable_lifecycle                   = var.enable_bucket_lifecycle
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  code_expiration_days               = var.code_expiration_days
  kms_key_arn                        = local.kms_key_arn
}

module "jobs" {
  source = "./modules/jobs"

  name                       = local.name
  visibility_timeout_seconds = local.job_visibility_timeout
  job_deadline_seconds       = local.job_deadline_seconds
  consumer_timeout_seconds   = var.worker_timeout
  max_receive_count          = var.job_max_receive_count
  deletion_protection        = var.protected_stage
  kms_key_arn                = local.kms_key_arn
}

# The answers kept for Idempotency-Key retries: one item per caller and key, removed by TTL
# once its window ends.
module "idempotency" {
  source = "./modules/dynamodb_table"

  name                = "${local.name}-idempotency"
  hash_key            = "id"
  ttl_attribute       = "expiration" # Powertools' attribute
  deletion_protection = var.protected_stage
  kms_key_arn         = local.kms_key_arn
}

# Spend per caller and period (lambda/codegen/spend), and each caller's budget override.
module "spend" {
  source = "./modules/dynamodb_table"

  name                = "${local.name}-spend"
  hash_key            = "caller"
  range_key           = "period"
  ttl_attribute       = "expires_at"
  deletion_protection = var.protected_stage
  kms_key_arn         = local.kms_key_arn
}

# A caller's own budget over the stage's default, by owner id or by a role's ARN (every
# session of the role): the function reads it with the caller's counters.
resource "aws_dynamodb_table_item" "budget" {
  for_each = var.spend_budget_overrides

  table_name = module.spend.table_name
  hash_key   = "caller"
  range_key  = "period"
  item = jsonencode({
    caller = { S = each.key }
    period = { S = "budget" }
    limits = { S = jsonencode(each.value) }
  })
}

# The API function records jobs and queues them, and reads them back for their owners; it
# keeps the answers of keyed requests for their retries.
data "aws_iam_policy_document" "submit_jobs" {
  source_policy_documents = [data.aws_iam_policy_document.count_spend.json]

  statement {
    sid       = "QueueJobs"
    actions   = ["sqs:SendMessage"]
    resources = [module.jobs.queue_arn]
  }

  statement {
    sid       = "RecordJobs"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [module.jobs.table_arn]
  }

  # How many unfinished jobs the caller has (its limit).
  statement {
    sid       = "CountCallersJobs"
    actions   = ["dynamodb:Query"]
    resources = [module.jobs.owner_index_arn]
  }

  statement {
    sid       = "ReadJobsCode"
    actions   = ["s3:GetObject"]
    resources = [local.stored_jobs_code_arn]
  }

  statement {
    sid       = "KeepAnswers"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [module.idempotency.table_arn]
  }
}

# Every function counts its callers' spend: reservations, settlements, their budgets, and a
# caller near its budget announced on the alarm topic (whose key SNS uses for them).
data "aws_iam_policy_document" "count_spend" {
  statement {
    sid       = "CountSpend"
    actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
    resources = [module.spend.table_arn]
  }

  statement {
    sid       = "AnnounceBudgetAlerts"
    actions   = ["sns:Publish"]
    resources = [local.alarm_topic_arn]
  }

  statement {
    sid       = "EncryptBudgetAlerts"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = [local.alarm_topic_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${var.aws_region}.amazonaws.com"]
    }
  }
}

# The worker reads the queue (its event source mapping's permissions), moves job records
# forward, stores code and calls the model: nothing more.
data "aws_iam_policy_document" "run_jobs" {
  source_policy_documents = [data.aws_iam_policy_document.count_spend.json]

  statement {
    sid       = "RunJobs"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [module.jobs.table_arn]
  }

  statement {
    sid       = "ReadJobsCode"
    actions   = ["s3:GetObject"]
    resources = [local.stored_jobs_code_arn]
  }
}

# The stage's three functions: one zip, one layer, one table of what differs.
# - api: answers PUT /code-generation (and keyed retries); stores synchronous answers.
# - jobs: the job routes' own function (the same code, by route): synchronous generations,
#   which may hold the generator's every reserved instance for half a minute each, cannot
#   take the capacity that job submissions and polls need. It submits and reads jobs, and
#   calls no model.
# - worker: runs queued jobs, streaming their answers (long ones, and their progress); its
#   concurrency is reserved for as many as the event source mapping may run at once, so other
#   functions of the account cannot throttle it and deliveries are not used up without running.
locals {
  # Known before anything is created: the stage key names the functions' log groups.
  function_names = { api = local.name, jobs = "${local.name}-jobs", worker = "${local.name}-worker" }
  functions = {
    api = {
      name                 = local.function_names.api
      handler              = "codegen.handler.lambda_handler"
      timeout              = var.timeout
      reserved_concurrency = var.reserved_concurrency
      policy               = data.aws_iam_policy_document.submit_jobs.json
      stored_keys          = local.stored_answer_keys
      streams_model        = false
      queue                = null
    }
    jobs = {
      name                 = local.function_names.jobs
      handler              = "codegen.handler.lambda_handler"
      timeout              = local.jobs_api_timeout
      reserved_concurrency = var.jobs_api_reserved_concurrency
      policy               = data.aws_iam_policy_document.submit_jobs.json
      stored_keys          = null # stores no code, calls no model
      streams_model        = false
      queue                = null
    }
    worker = {
      name                 = local.function_names.worker
      handler              = "codegen.worker.lambda_handler"
      timeout              = var.worker_timeout
      reserved_concurrency = var.job_max_concurrency
      policy               = data.aws_iam_policy_document.run_jobs.json
      stored_keys          = local.stored_job_keys
      streams_model        = true
      # One job per invocation: a batch would run its jobs one after another.
      queue = { queue_arn = module.jobs.consumer_queue_arn, batch_size = 1, maximum_concurrency = var.job_max_concurrency }
    }
  }
}

# The dependencies every function runs with (boto3, Powertools, the parsers): built once by
# `invoke build-layer`, published once per change.
resource "aws_lambda_layer_version" "dependencies" {
  layer_name               = "${local.name}-dependencies"
  filename                 = var.layer_zip_path
  source_code_hash         = var.layer_zip_base64_sha256
  compatible_runtimes      = ["python${var.python_version}"]
  compatible_architectures = [var.architecture]
  description              = "boto3 and friends for ${local.name}"
}

module "function" {
  source   = "./modules/lambda_function"
  for_each = local.functions

  function_name              = each.value.name
  handler                    = each.value.handler
  timeout                    = each.value.timeout
  reserved_concurrency       = each.value.reserved_concurrency
  additional_policy_json     = each.value.policy
  streams_model              = each.value.streams_model
  stored_keys                = each.value.stored_keys
  sqs_event_source           = each.value.queue
  runtime                    = "python${var.python_version}"
  architecture               = var.architecture
  function_zip_path          = var.function_zip_path
  function_zip_base64_sha256 = var.function_zip_base64_sha256
  layer_arn                  = aws_lambda_layer_version.dependencies.arn
  memory_size                = var.memory_size
  tracing_enabled            = var.tracing_enabled
  log_retention_days         = var.log_retention_days
  output_bucket_name         = module.storage.bucket_name
  output_bucket_arn          = module.storage.bucket_arn
  output_prefix              = local.output_prefix
  model_id                   = var.model_id
  environment                = local.function_environment
  kms_key_arn                = local.kms_key_arn
}

module "http_api" {
  source = "./modules/http_api"

  name       = local.name
  stage_name = var.stage
  functions = {
    api = {
      name       = module.function["api"].function_name
      invoke_arn = module.function["api"].invoke_arn
      route_keys = [local.routes.generate]
    }
    jobs = {
      name       = module.function["jobs"].function_name
      invoke_arn = module.function["jobs"].invoke_arn
      route_keys = [local.routes.submit_job, local.routes.read_job]
    }
  }
  authorization_type     = var.route_authorization
  throttling_rate_limit  = var.throttling_rate_limit
  throttling_burst_limit = var.throttling_burst_limit
  integration_timeout_ms = var.integration_timeout_ms
  log_retention_days     = var.log_retention_days
  kms_key_arn            = local.kms_key_arn
}

module "monitoring" {
  source = "./modules/monitoring"

  name              = local.name
  stage             = var.stage
  metrics_namespace = local.metrics_namespace
  api_id            = module.http_api.api_id
  api_stage_name    = module.http_api.stage_name
  functions = {
    for key, function in local.functions : key => { name = module.function[key].function_name, timeout_seconds = function.timeout }
  }
  jobs_queue_name        = module.jobs.queue_name
  dead_letter_queue_name = module.jobs.dead_letter_queue_name
  model_id               = var.model_id
  alarm_emails           = var.alarm_emails
  # A message older than one visibility timeout was not finished by its first delivery
  # (SQS reports the age each minute: a minute at least).
  queue_oldest_message_age_threshold = max(60, local.job_visibility_timeout)
  output_tokens_per_hour_budget      = var.output_tokens_per_hour_budget
  price_per_1000_input_tokens        = var.price_per_1000_input_tokens
  price_per_1000_output_tokens       = var.price_per_1000_output_tokens
  # The stage's key when it has one; else the topic's own (alarms cannot use aws/sns).
  kms_key_arn = local.alarm_topic_key_arn
}
