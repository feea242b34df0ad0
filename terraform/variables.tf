# The root's variables. None has a default here: every default lives in
# terraform/defaults.tfvars.json, which `invoke` passes before the stage's own file and which
# the tooling reads too, so Terraform and the tooling can never disagree on a value.

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "stage" {
  description = "Deployment stage (dev, prod, local, ...): names the resources and the API stage."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.stage))
    error_message = "stage must be 1-16 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "aws_account_id" {
  description = "The AWS account this stage deploys to: the provider refuses any other (allowed_account_ids), and `invoke deploy` checks it before planning. Every real stage names one."
  type        = string
  nullable    = true

  validation {
    condition     = var.aws_account_id == null ? true : can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be a 12-digit AWS account id (a string), or null."
  }
}

variable "protected_stage" {
  description = "A stage whose data matters: its bucket is never force-destroyed, and the tooling refuses local Terraform state for it and asks before deploy and destroy."
  type        = bool
}

variable "aws_region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "python_version" {
  description = "Python version of the Lambda runtime (python<version>); the layer is built for it."
  type        = string

  validation {
    condition     = can(regex("^3\\.1[0-9]$", var.python_version))
    error_message = "python_version must be a Lambda Python version such as \"3.12\"."
  }
}

variable "architecture" {
  description = "Lambda instruction set: x86_64 or arm64 (the layer is built for it)."
  type        = string

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "model_id" {
  description = "Bedrock model id or inference profile id used for generation."
  type        = string
}

variable "memory_size" {
  description = "Function memory in MB."
  type        = number

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240 (Lambda's range)."
  }
}

variable "timeout" {
  description = "The API function's timeout in seconds (under the HTTP API's 30 s limit)."
  type        = number

  validation {
    condition     = var.timeout >= 3 && var.timeout <= 29
    error_message = "timeout must be between 3 and 29 seconds (API Gateway HTTP APIs give up after 30 s; longer answers are jobs: see worker_timeout)."
  }
}

variable "reserved_concurrency" {
  description = "The stage's cost ceiling: at most this many functions (so model calls) run at once; -1 leaves it unreserved, on purpose. Every stage file sets it."
  type        = number

  validation {
    condition     = var.reserved_concurrency == -1 || (var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency)
    error_message = "reserved_concurrency must be a whole number >= 1, or -1 to leave the function unreserved (0 would stop every invocation)."
  }
}

variable "tracing_enabled" {
  description = "X-Ray active tracing of the function."
  type        = bool
}

variable "code_expiration_days" {
  description = "Days after which stored code expires (needs enable_bucket_lifecycle); null keeps it."
  type        = number
  nullable    = true

  validation {
    condition     = var.code_expiration_days == null ? true : var.code_expiration_days >= 1
    error_message = "code_expiration_days must be at least 1, or null to keep stored code."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps function and access logs."
  type        = number
}

variable "route_authorization" {
  description = "Authorization of PUT /code-generation: AWS_IAM (default) or NONE (open: set it explicitly)."
  type        = string

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.route_authorization)
    error_message = "route_authorization must be AWS_IAM or NONE."
  }
}

variable "throttling_rate_limit" {
  description = "Requests per second the API stage allows."
  type        = number

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive: 0 blocks every request."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests the API stage allows."
  type        = number

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive: 0 blocks every request."
  }
}

variable "integration_timeout_ms" {
  description = "How long the API waits for the function before answering 503 (at most 30000 ms)."
  type        = number

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 30000
    error_message = "integration_timeout_ms must be between 50 and 30000."
  }
}

variable "bucket_force_destroy" {
  description = "Let destroy remove the output bucket with its objects. Keep false where the code matters."
  type        = bool
}

variable "enable_bucket_lifecycle" {
  description = "Expire non-current object versions and stale multipart uploads."
  type        = bool
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced object version is kept."
  type        = number

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "default_temperature" {
  description = "Temperature sent when a request sets neither temperature nor top_p; null sends none."
  type        = number
  nullable    = true
}

variable "default_top_p" {
  description = "top_p sent when a request sets neither temperature nor top_p; null sends none (newer Claude models refuse both together)."
  type        = number
  nullable    = true
}

variable "default_top_k" {
  description = "top_k sent when a request sets none; null sends none."
  type        = number
  nullable    = true
}

variable "model_request_fields" {
  description = "Model-specific request fields sent with every Converse call (additionalModelRequestFields), beside top_k: e.g. {\"thinking\": {\"type\": \"disabled\"}}, which the default Claude model needs for the stage's temperature and top_k (it thinks by default, and a thinking model takes neither). {} sends none."
  type        = any

  validation {
    condition     = can(keys(var.model_request_fields)) && !can(var.model_request_fields.top_k)
    error_message = "model_request_fields must be a JSON object of the model's own request fields (top_k has its own setting: default_top_k)."
  }
}

variable "default_max_tokens" {
  description = "max_tokens when a request sets none."
  type        = number
}

variable "max_tokens_limit" {
  description = "The largest max_tokens a synchronous request may ask for; null: what the model writes at model_tokens_per_second in the time a request has (timeout - 8 s), so that a request at the limit is answered, not timed out. Larger answers are jobs."
  type        = number
  nullable    = true
}

variable "model_tokens_per_second" {
  description = "How many output tokens a second the stage's model can be counted on to write, even when busy: sets the synchronous max_tokens limit. 40 for Bedrock (the low end of its models' speeds); measure yours before raising it."
  type        = number

  validation {
    condition     = var.model_tokens_per_second > 0 && var.model_tokens_per_second <= 10000
    error_message = "model_tokens_per_second must be a positive number of tokens per second (at most 10000)."
  }
}

variable "async_max_tokens_limit" {
  description = "The largest max_tokens a job (an asynchronous request) may ask for."
  type        = number

  validation {
    condition     = var.async_max_tokens_limit >= 1 && var.async_max_tokens_limit <= 65536 && floor(var.async_max_tokens_limit) == var.async_max_tokens_limit
    error_message = "async_max_tokens_limit must be a whole number from 1 to 65536 (Bedrock's text models answer at most tens of thousands of tokens; at 40-100 tokens/s, 65536 already takes 11-27 minutes, past Lambda's 15)."
  }
}

variable "worker_timeout" {
  description = "The job worker's timeout in seconds: the longest a job's generation may run."
  type        = number

  validation {
    condition     = var.worker_timeout >= 10 && var.worker_timeout <= 900 && floor(var.worker_timeout) == var.worker_timeout
    error_message = "worker_timeout must be a whole number of seconds from 10 to 900 (Lambda's 15 minutes)."
  }
}

variable "job_visibility_timeout" {
  description = "Seconds a delivered job stays hidden from other workers; null: 6 x worker_timeout (AWS's advice for SQS event sources: a throttled invocation is retried within it). At least worker_timeout + 10 (a crashed worker's job is delivered again after it)."
  type        = number
  nullable    = true

  validation {
    condition     = var.job_visibility_timeout == null ? true : (var.job_visibility_timeout >= 1 && var.job_visibility_timeout <= 43200 && floor(var.job_visibility_timeout) == var.job_visibility_timeout)
    error_message = "job_visibility_timeout must be a whole number of seconds from 1 to 43200 (12 hours, SQS's limit), or null."
  }
}

variable "job_max_receive_count" {
  description = "Deliveries of a job before its message moves to the dead-letter queue (and the job is failed); AWS advises at least 5 for SQS event sources, so that throttling does not use them up."
  type        = number

  validation {
    condition     = var.job_max_receive_count >= 5 && var.job_max_receive_count <= 10 && floor(var.job_max_receive_count) == var.job_max_receive_count
    error_message = "job_max_receive_count must be a whole number from 5 to 10: fewer deliveries and a passing throttle can dead-letter a job that would have run (AWS advises at least 5 for SQS event sources)."
  }
}

variable "job_max_concurrency" {
  description = "The most jobs running at once (the worker's event source mapping): a burst of jobs cannot use up the account's Bedrock quota."
  type        = number

  validation {
    condition     = var.job_max_concurrency >= 2 && var.job_max_concurrency <= 1000 && floor(var.job_max_concurrency) == var.job_max_concurrency
    error_message = "job_max_concurrency must be a whole number from 2 to 1000 (Lambda's range for an SQS event source)."
  }
}

variable "job_ttl_days" {
  description = "Days a job's record is kept (DynamoDB TTL); its code stays in the bucket as set by code_expiration_days."
  type        = number

  validation {
    condition     = var.job_ttl_days >= 1 && floor(var.job_ttl_days) == var.job_ttl_days
    error_message = "job_ttl_days must be a whole number >= 1."
  }
}

variable "idempotency_window_seconds" {
  description = "How long the answer to a request with an Idempotency-Key is kept and replayed to its retries (and the key cannot be used for another request)."
  type        = number

  validation {
    condition     = var.idempotency_window_seconds >= 60 && var.idempotency_window_seconds <= 604800 && floor(var.idempotency_window_seconds) == var.idempotency_window_seconds
    error_message = "idempotency_window_seconds must be a whole number of seconds from 60 to 604800 (7 days)."
  }
}

variable "log_prompts" {
  description = "Log the full prompt of each request (off: only its length and sha256 are logged)."
  type        = bool
}

# Set by `invoke deploy` from the build manifests, never by hand.
variable "function_zip_path" {
  description = "Path of the function zip (build/function-<sha>.zip)."
  type        = string
}

variable "function_zip_base64_sha256" {
  description = "Base64 sha256 of the function zip."
  type        = string
}

variable "layer_zip_path" {
  description = "Path of the layer zip (build/layer-<arch>-py3.12-<sha>.zip)."
  type        = string
}

variable "layer_zip_base64_sha256" {
  description = "Base64 sha256 of the layer zip."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses the stage's alarms notify (through its SNS topic); each must confirm the link AWS sends."
  type        = list(string)

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "output_tokens_per_hour_budget" {
  description = "The stage's model budget: an alarm fires when its functions write more output tokens than this in an hour."
  type        = number

  validation {
    condition     = var.output_tokens_per_hour_budget >= 1
    error_message = "output_tokens_per_hour_budget must be at least 1."
  }
}

variable "price_per_1000_input_tokens" {
  description = "The stage's model's price per 1,000 input tokens (USD): the dashboard's and `invoke status`'s estimated cost."
  type        = number

  validation {
    condition     = var.price_per_1000_input_tokens >= 0
    error_message = "price_per_1000_input_tokens must not be negative."
  }
}

variable "price_per_1000_output_tokens" {
  description = "The stage's model's price per 1,000 output tokens (USD): the dashboard's and `invoke status`'s estimated cost."
  type        = number

  validation {
    condition     = var.price_per_1000_output_tokens >= 0
    error_message = "price_per_1000_output_tokens must not be negative."
  }
}

variable "kms_key" {
  description = "The stage's customer-managed KMS key for its bucket, queues, tables, log groups and alarm topic: \"create\" makes one (modules/kms_key), a key ARN uses yours (its policy must let CloudWatch Logs and CloudWatch alarms use it: see modules/kms_key), null keeps the AWS-managed keys."
  type        = string
  nullable    = true

  validation {
    condition     = var.kms_key == null ? true : (var.kms_key == "create" || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-zA-Z-]+$", var.kms_key)))
    error_message = "kms_key must be null, \"create\", or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)."
  }
}

variable "jobs_api_reserved_concurrency" {
  description = "Instances reserved for the job routes' own function (submitting and reading jobs), so that synchronous generations cannot starve them; -1 reserves none (the local stage)."
  type        = number

  validation {
    condition     = var.jobs_api_reserved_concurrency == -1 || var.jobs_api_reserved_concurrency >= 1
    error_message = "jobs_api_reserved_concurrency must be -1 (none reserved) or at least 1."
  }
}

variable "max_unfinished_jobs_per_caller" {
  description = "The most jobs one caller may have queued or running at once; another submission is refused with 429 TooManyJobs, saying how many wait."
  type        = number

  validation {
    condition     = var.max_unfinished_jobs_per_caller >= 1 && floor(var.max_unfinished_jobs_per_caller) == var.max_unfinished_jobs_per_caller
    error_message = "max_unfinished_jobs_per_caller must be a whole number, at least 1."
  }
}

variable "system_prompt" {
  description = "The stage's system prompt: a template in which {language} stands for the language's name and {tag} for its fenced block's tag. Each stored object records its SHA-256 (system-prompt-sha256)."
  type        = string

  validation {
    condition     = strcontains(var.system_prompt, "{language}")
    error_message = "system_prompt must name the language as {language} (and may use {tag} for the fence's tag)."
  }

  # Lambda allows 4 KB of environment in all; the prompt shares it with the other settings.
  validation {
    condition     = length(var.system_prompt) <= 2048
    error_message = "system_prompt must be at most 2048 characters (Lambda's environment holds 4 KB in all)."
  }
}

variable "syntax_repair" {
  description = "When generated code does not parse (Python, JSON, YAML), ask the model once more, showing it the parser's message, if a second answer as long as the first still fits in the time left; the answer's syntax.repair says what happened. Off by default: a repair is a second, paid model call."
  type        = bool
}

variable "spend_budget" {
  description = "The budget of every caller without one of its own: a map of limits, any of tokens_per_day, tokens_per_month (input and output tokens), usd_per_day, usd_per_month (at the stage's prices); null for none. A request with nothing left gets 429 BudgetExceeded before the model is called."
  type        = map(number)
  nullable    = true

  validation {
    condition     = var.spend_budget == null ? true : alltrue([for kind, limit in var.spend_budget : contains(["tokens_per_day", "tokens_per_month", "usd_per_day", "usd_per_month"], kind) && limit >= 0])
    error_message = "spend_budget takes tokens_per_day, tokens_per_month, usd_per_day and usd_per_month, each a number at least 0 (e.g. {\"tokens_per_day\": 200000})."
  }
}

variable "spend_budget_overrides" {
  description = "Budgets of particular callers over spend_budget, by the caller's owner id (ACCOUNT:AIDA..., ACCOUNT:AROA..., as jobs and idempotency keys know it) or a role's ARN (arn:aws:iam::ACCOUNT:role/NAME: every session of the role); each a map of limits as spend_budget's."
  type        = map(map(number))

  validation {
    condition     = alltrue([for caller, budget in var.spend_budget_overrides : can(regex("^([0-9]{12}:[A-Za-z0-9+=,.@/_-]+|arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_-]+)$", caller)) && alltrue([for kind, limit in budget : contains(["tokens_per_day", "tokens_per_month", "usd_per_day", "usd_per_month"], kind) && limit >= 0])])
    error_message = "spend_budget_overrides maps a caller (its owner id, ACCOUNT:ID, or a role's ARN, arn:aws:iam::ACCOUNT:role/NAME) to limits: tokens_per_day, tokens_per_month, usd_per_day, usd_per_month, each a number at least 0."
  }
}

variable "spend_retention_days" {
  description = "Days a period's spend counters are kept after the period ends (invoke usage reads them); DynamoDB's TTL removes them then, typically within two days."
  type        = number

  validation {
    condition     = var.spend_retention_days >= 1 && floor(var.spend_retention_days) == var.spend_retention_days
    error_message = "spend_retention_days must be a whole number of days, at least 1."
  }
}

variable "spend_alert_share" {
  description = "A caller crossing this share of a limit of its budget is recorded once per period and notified on the stage's alarm topic (0.8: at 80%)."
  type        = number

  validation {
    condition     = var.spend_alert_share > 0 && var.spend_alert_share <= 1
    error_message = "spend_alert_share must be in (0, 1], e.g. 0.8."
  }
}
