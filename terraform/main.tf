# The code-generation service for one stage: storage, function, HTTP API.

data "aws_caller_identity" "current" {}

locals {
  name = "${var.project}-${var.stage}"
  # Account and region in the bucket name keep stages and accounts from colliding.
  bucket_name = lower("${local.name}-${data.aws_caller_identity.current.account_id}-${var.aws_region}")
  tags = {
    Service = "code-generation"
  }
  optional_settings = {
    DEFAULT_TEMPERATURE = var.default_temperature
    DEFAULT_TOP_P       = var.default_top_p
    DEFAULT_TOP_K       = var.default_top_k
  }
}

module "storage" {
  source = "./modules/storage"

  bucket_name                        = local.bucket_name
  force_destroy                      = var.bucket_force_destroy && !var.protected_stage
  enable_lifecycle                   = var.enable_bucket_lifecycle
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  code_expiration_days               = var.code_expiration_days
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
  model_id                   = var.model_id
  tags                       = local.tags

  # An empty value tells the function "send none" for that setting.
  environment = merge(
    { for name, value in local.optional_settings : name => value == null ? "" : tostring(value) },
    {
      DEFAULT_MAX_TOKENS = tostring(var.default_max_tokens)
      MAX_TOKENS_LIMIT   = tostring(var.max_tokens_limit)
      LOG_PROMPTS        = tostring(var.log_prompts)
    },
  )
}

module "http_api" {
  source = "./modules/http_api"

  name                   = local.name
  stage_name             = var.stage
  function_name          = module.function.function_name
  function_invoke_arn    = module.function.invoke_arn
  authorization_type     = var.route_authorization
  throttling_rate_limit  = var.throttling_rate_limit
  throttling_burst_limit = var.throttling_burst_limit
  integration_timeout_ms = var.integration_timeout_ms
  log_retention_days     = var.log_retention_days
  tags                   = local.tags
}
