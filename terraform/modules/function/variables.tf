variable "function_name" {
  description = "Name of the Lambda function (also names its role, layer and log group)."
  type        = string
}

variable "handler" {
  description = "Handler entry point inside the function zip."
  type        = string
  default     = "codegen.handler.lambda_handler"
}

variable "runtime" {
  description = "Lambda runtime identifier (python3.x); the layer must be built for the same Python."
  type        = string

  validation {
    condition     = can(regex("^python3\\.1[0-9]$", var.runtime))
    error_message = "runtime must be a Lambda Python runtime such as python3.12."
  }
}

variable "architecture" {
  description = "Instruction set: x86_64 or arm64. The layer must be built for the same one."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "function_zip_path" {
  description = "Path of the function zip built by `invoke package`."
  type        = string
}

variable "function_zip_base64_sha256" {
  description = "Base64 sha256 of the function zip (from its manifest); unchanged code never re-uploads."
  type        = string
}

variable "layer_zip_path" {
  description = "Path of the dependencies layer zip built by `invoke build-layer` (when create_layer is true)."
  type        = string
  default     = null
}

variable "layer_zip_base64_sha256" {
  description = "Base64 sha256 of the layer zip (from its manifest)."
  type        = string
  default     = null
}

variable "create_layer" {
  description = "Publish layer_zip_path as the function's dependencies layer; false uses layer_arn instead."
  type        = bool
  default     = true
}

variable "layer_arn" {
  description = "With create_layer false: an existing layer version to use (e.g. another function's)."
  type        = string
  default     = null

  validation {
    condition     = var.layer_arn == null || can(regex("^arn:[^:]+:lambda:[^:]+:[0-9]{12}:layer:[^:]+:[0-9]+$", var.layer_arn))
    error_message = "layer_arn must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Function timeout in seconds, up to Lambda's 900: an HTTP API's function answers within its 30 s integration limit (the root module keeps the API function under 30 s); a queue's worker may run longer."
  type        = number
  default     = 28

  validation {
    condition     = var.timeout >= 3 && var.timeout <= 900
    error_message = "timeout must be between 3 and 900 seconds (Lambda's 15 minutes)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: the most model calls running at once (a cost ceiling), or -1 to leave the function unreserved on purpose."
  type        = number

  validation {
    condition     = var.reserved_concurrency == -1 || (var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency)
    error_message = "reserved_concurrency must be a whole number >= 1, or -1 to leave the function unreserved (0 would stop every invocation)."
  }
}

variable "tracing_enabled" {
  description = "X-Ray active tracing for the function (and the permission to send traces)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number
  default     = 30
}

variable "output_bucket_name" {
  description = "Bucket the function writes generated code to."
  type        = string
}

variable "output_bucket_arn" {
  description = "ARN of that bucket."
  type        = string
}

variable "output_prefix" {
  description = "Key prefix for generated code; the function may write under it only."
  type        = string
  default     = "code-output/"
}

variable "stored_keys" {
  description = "The keys under output_prefix the function stores code at, as an IAM resource pattern (? one character, * any): its s3:PutObject reaches those only."
  type        = string
  default     = "*"

  validation {
    condition     = length(var.stored_keys) > 0 && !startswith(var.stored_keys, "/")
    error_message = "stored_keys is a key pattern under output_prefix, e.g. \"jobs/*\" (not empty, no leading /)."
  }
}

variable "model_id" {
  description = "Bedrock model id, or inference profile id (us./eu./apac./global. prefix) the function converses with."
  type        = string
}

variable "environment" {
  description = "Further environment variables for the function (sampling defaults, limits)."
  type        = map(string)
  default     = {}
}

variable "attach_additional_policy" {
  description = "Attach additional_policy_json to the function's role (a flag known at plan time, as the document may not be)."
  type        = bool
  default     = false
}

variable "additional_policy_json" {
  description = "A further IAM policy document for the function's role (with attach_additional_policy)."
  type        = string
  default     = null
}

variable "sqs_event_source" {
  description = "An SQS queue that triggers the function: batch size and the most concurrent invocations it may cause (null: none)."
  type = object({
    queue_arn           = string
    batch_size          = number
    maximum_concurrency = number
  })
  default = null

  validation {
    condition     = var.sqs_event_source == null || (try(var.sqs_event_source.maximum_concurrency, 2) >= 2 && try(var.sqs_event_source.maximum_concurrency, 2) <= 1000)
    error_message = "sqs_event_source.maximum_concurrency must be from 2 to 1000 (Lambda's range)."
  }

  validation {
    condition     = var.sqs_event_source == null || (try(var.sqs_event_source.batch_size, 1) >= 1 && try(var.sqs_event_source.batch_size, 1) <= 10)
    error_message = "sqs_event_source.batch_size must be from 1 to 10."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed or AWS-owned key."
  type        = string
  default     = null
}

variable "streams_model" {
  description = "The function streams the model's answers (ConverseStream): its role may also bedrock:InvokeModelWithResponseStream."
  type        = bool
  default     = false
}

variable "generates_code" {
  description = "The function writes code: its role may call the model and store code under output_prefix. False for one that only serves jobs (submits and reads them)."
  type        = bool
  default     = true
}
