# The code-generation service for one stage: storage, the API function, the HTTP API, and
# asynchronous jobs (queue, dead-letter queue, table, worker function).

data "aws_caller_identity" "current" {
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
  tags = {
    Service = "code-generation"
  }
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
  stored_answer_keys   = "????/??/??/*"
  stored_job_keys      = "jobs/*"
  metrics_namespace    = "CodeGen"
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
  source = "./modules/stage_key"
  count  = var.kms_key == "create" ? 1 : 0

  name = local.name
  # Known before the groups exist: the key comes first, the groups are created with it.
  log_group_names = [
    "/aws/lambda/${local.name}",
    "/aws/lambda/${local.name}-jobs",
    "/aws/lambda/${local.name}-worker",
    "/aws/apigateway/${local.name}/${var.stage}",
  ]
  tags = local.tags
}

module "storage" {
  source = "./modules/storage"

  bucket_name                        = local.bucket_name
  force_destroy                      = var.bucket_force_destroy && !var.protected_stage
  enable_lifecycle                   = var.enable_bucket_lifecycle
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  code_expiration_days               = var.code_expiration_days
  kms_key_arn                        = local.kms_key_arn
  tags                               = local.tags
}

module "function" {
  source = "./modules/function"

  function_name              = local.name
  runtime                    = "python${var.python_version}"
  architecture               = var.architecture
  function_zip_path          = var.function_zip_path
  function_zip_base64_sha256 = var.function_zip_base64_sha256
  layer_zip_path             = var.layer_zip_path
  layer_zip_base64_sha256    = var.layer_zip_base64_sha256
  memory_size                = var.memory_size
  timeout                    = var.timeout
  reserved_concurrency       = var.reserved_concurrency
  tracing_enabled            = var.tracing_enabled
  log_retention_days         = var.log_retention_days
  output_bucket_name         = module.storage.bucket_name
  output_bucket_arn          = module.storage.bucket_arn
  output_prefix              = local.output_prefix
  stored_keys                = local.stored_answer_keys
  model_id                   = var.model_id
  environment                = local.function_environment
  attach_additional_policy   = true
  additional_policy_json     = data.aws_iam_policy_document.submit_jobs.json
  kms_key_arn                = local.kms_key_arn
  tags                       = local.tags
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
  tags                       = local.tags
}

module "idempotency" {
  source = "./modules/idempotency"

  name                = local.name
  deletion_protection = var.protected_stage
  kms_key_arn         = local.kms_key_arn
  tags                = local.tags
}

# The API function records jobs and queues them, and reads them back for their owners; it
# keeps the answers of keyed requests for their retries.
data "aws_iam_policy_document" "submit_jobs" {
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

# The worker reads the queue (its event source mapping's permissions), moves job records
# forward, stores code and calls the model: nothing more.
data "aws_iam_policy_document" "run_jobs" {
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

module "worker" {
  source = "./modules/function"

  function_name = "${local.name}-worker"
  handler       = "codegen.worker.lambda_handler"
  # The worker streams its answers (codegen.jobs.worker): long ones, and their progress.
  streams_model              = true
  runtime                    = "python${var.python_version}"
  architecture               = var.architecture
  function_zip_path          = var.function_zip_path
  function_zip_base64_sha256 = var.function_zip_base64_sha256
  create_layer               = false
  layer_arn                  = module.function.layer_arn
  memory_size                = var.memory_size
  timeout                    = var.worker_timeout
  # Reserved for as many as the event source mapping may run at once: other functions of the
  # account cannot throttle it, so deliveries are not used up without running.
  reserved_concurrency     = var.job_max_concurrency
  tracing_enabled          = var.tracing_enabled
  log_retention_days       = var.log_retention_days
  output_bucket_name       = module.storage.bucket_name
  output_bucket_arn        = module.storage.bucket_arn
  output_prefix            = local.output_prefix
  stored_keys              = local.stored_job_keys
  model_id                 = var.model_id
  environment              = local.function_environment
  attach_additional_policy = true
  additional_policy_json   = data.aws_iam_policy_document.run_jobs.json
  kms_key_arn              = local.kms_key_arn
  tags                     = local.tags

  sqs_event_source = {
    queue_arn = module.jobs.consumer_queue_arn
    # One job per invocation: a batch would run its jobs one after another.
    batch_size          = 1
    maximum_concurrency = var.job_max_concurrency
  }
}

# The job routes' own function (the same code, by route): synchronous generations, which may
# hold the generator's every reserved instance for half a minute each, cannot take the
# capacity that job submissions and polls need. Its role submits and reads jobs, and calls
# no model.
module "jobs_api" {
  source = "./modules/function"

  function_name              = "${local.name}-jobs"
  runtime                    = "python${var.python_version}"
  architecture               = var.architecture
  function_zip_path          = var.function_zip_path
  function_zip_base64_sha256 = var.function_zip_base64_sha256
  create_layer               = false
  layer_arn                  = module.function.layer_arn
  memory_size                = var.memory_size
  timeout                    = local.jobs_api_timeout
  reserved_concurrency       = var.jobs_api_reserved_concurrency
  tracing_enabled            = var.tracing_enabled
  log_retention_days         = var.log_retention_days
  output_bucket_name         = module.storage.bucket_name
  output_bucket_arn          = module.storage.bucket_arn
  output_prefix              = local.output_prefix
  model_id                   = var.model_id
  generates_code             = false
  environment                = local.function_environment
  attach_additional_policy   = true
  additional_policy_json     = data.aws_iam_policy_document.submit_jobs.json
  kms_key_arn                = local.kms_key_arn
  tags                       = local.tags
}

module "http_api" {
  source = "./modules/http_api"

  name       = local.name
  stage_name = var.stage
  functions = {
    api = {
      name       = module.function.function_name
      invoke_arn = module.function.invoke_arn
      route_keys = [local.routes.generate]
    }
    jobs = {
      name       = module.jobs_api.function_name
      invoke_arn = module.jobs_api.invoke_arn
      route_keys = [local.routes.submit_job, local.routes.read_job]
    }
  }
  authorization_type     = var.route_authorization
  throttling_rate_limit  = var.throttling_rate_limit
  throttling_burst_limit = var.throttling_burst_limit
  integration_timeout_ms = var.integration_timeout_ms
  log_retention_days     = var.log_retention_days
  kms_key_arn            = local.kms_key_arn
  tags                   = local.tags
}

module "monitoring" {
  source = "./modules/monitoring"

  name              = local.name
  stage             = var.stage
  metrics_namespace = local.metrics_namespace
  api_id            = module.http_api.api_id
  api_stage_name    = module.http_api.stage_name
  functions = {
    api    = { name = module.function.function_name, timeout_seconds = var.timeout }
    jobs   = { name = module.jobs_api.function_name, timeout_seconds = local.jobs_api_timeout }
    worker = { name = module.worker.function_name, timeout_seconds = var.worker_timeout }
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
  create_kms_key = var.kms_key == null
  kms_key_arn    = local.kms_key_arn
  tags           = local.tags
}
