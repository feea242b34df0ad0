# The root validates every value a stage sets (terraform/variables.tf) and passes them down
# typed: no validation or default here repeats one of the root's.

variable "function_name" {
  description = "Name of the Lambda function (also names its role and log group)."
  type        = string
}

variable "handler" {
  description = "Handler entry point inside the function zip (codegen.handler.lambda_handler for the API, codegen.worker.lambda_handler for the job worker)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime identifier (python3.x); the layer is built for the same Python."
  type        = string
}

variable "architecture" {
  description = "Instruction set, x86_64 or arm64; the layer is built for the same one."
  type        = string
}

variable "function_zip_path" {
  description = "Path of the function zip built by `invoke package`."
  type        = string
}

variable "function_zip_base64_sha256" {
  description = "Base64 sha256 of the function zip (from its manifest); unchanged code never re-uploads."
  type        = string
}

variable "layer_arn" {
  description = "The dependencies layer version the function runs with (the root's aws_lambda_layer_version.dependencies)."
  type        = string
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
}

variable "timeout" {
  description = "Function timeout in seconds: an HTTP API's function answers within its 30 s integration limit; a queue's worker may run up to Lambda's 900."
  type        = number
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: the most model calls running at once (a cost ceiling), or -1 to leave the function unreserved on purpose."
  type        = number
}

variable "tracing_enabled" {
  description = "X-Ray active tracing for the function (and the permission to send traces)."
  type        = bool
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number
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
}

variable "stored_keys" {
  description = "The keys under output_prefix the function stores code at, as an IAM resource pattern (? one character, * any): its s3:PutObject reaches those only. Null for a function that writes no code: its role then neither stores code nor calls the model."
  type        = string
  default     = null
}

variable "model_id" {
  description = "Bedrock model id, or inference profile id (us./eu./apac./global. prefix) the function converses with."
  type        = string
}

variable "environment" {
  description = "Further environment variables for the function (sampling defaults, limits, tables)."
  type        = map(string)
}

variable "additional_policy_json" {
  description = "A further IAM policy document for the function's role: what the root grants it beyond the module's own (a queue to send to, a table to write)."
  type        = string
}

variable "sqs_event_source" {
  description = "An SQS queue that triggers the function: batch size and the most concurrent invocations it may cause (null: none)."
  type = object({
    queue_arn           = string
    batch_size          = number
    maximum_concurrency = number
  })
  default = null
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed or AWS-owned key."
  type        = string
}

variable "streams_model" {
  description = "The function streams the model's answers (ConverseStream): its role may also bedrock:InvokeModelWithResponseStream."
  type        = bool
}
