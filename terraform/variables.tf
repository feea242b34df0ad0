variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "codegen"

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
  default     = null
  nullable    = true

  validation {
    condition     = var.aws_account_id == null ? true : can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be a 12-digit AWS account id (a string), or null."
  }
}

variable "protected_stage" {
  description = "A stage whose data matters: its bucket is never force-destroyed, and the tooling refuses local Terraform state for it and asks before deploy and destroy."
  type        = bool
  default     = false
}

variable "aws_region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "architecture" {
  description = "Lambda instruction set: x86_64 or arm64 (the layer is built for it)."
  type        = string
  default     = "arm64"
}

variable "model_id" {
  description = "Bedrock model id or inference profile id used for generation."
  type        = string
  default     = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
}

variable "memory_size" {
  description = "Function memory in MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Function timeout in seconds (under the HTTP API's 30 s limit)."
  type        = number
  default     = 28
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
  default     = false
}

variable "code_expiration_days" {
  description = "Days after which stored code expires (needs enable_bucket_lifecycle); null keeps it."
  type        = number
  default     = null
  nullable    = true
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps function and access logs."
  type        = number
  default     = 30
}

variable "route_authorization" {
  description = "Authorization of PUT /code-generation: AWS_IAM (default) or NONE (open: set it explicitly)."
  type        = string
  default     = "AWS_IAM"
}

variable "throttling_rate_limit" {
  description = "Requests per second the API stage allows."
  type        = number
  default     = 10
}

variable "throttling_burst_limit" {
  description = "Burst of requests the API stage allows."
  type        = number
  default     = 20
}

variable "integration_timeout_ms" {
  description = "How long the API waits for the function before answering 503 (at most 30000 ms)."
  type        = number
  default     = 30000
}

variable "bucket_force_destroy" {
  description = "Let destroy remove the output bucket with its objects. Keep false where the code matters."
  type        = bool
  default     = false
}

variable "enable_bucket_lifecycle" {
  description = "Expire non-current object versions and stale multipart uploads."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced object version is kept."
  type        = number
  default     = 30
}

variable "default_temperature" {
  description = "Temperature sent when a request sets neither temperature nor top_p; null sends none."
  type        = number
  default     = 0.1
  nullable    = true
}

variable "default_top_p" {
  description = "top_p sent when a request sets neither temperature nor top_p; null sends none (newer Claude models refuse both together)."
  type        = number
  default     = null
  nullable    = true
}

variable "default_top_k" {
  description = "top_k sent when a request sets none; null sends none."
  type        = number
  default     = 250
  nullable    = true
}

variable "default_max_tokens" {
  description = "max_tokens when a request sets none."
  type        = number
  default     = 2048
}

variable "max_tokens_limit" {
  description = "The largest max_tokens a request may ask for."
  type        = number
  default     = 4096
}

variable "log_prompts" {
  description = "Log the full prompt of each request (off: only its length and sha256 are logged)."
  type        = bool
  default     = false
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
