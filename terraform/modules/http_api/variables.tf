variable "name" {
  description = "Name of the HTTP API."
  type        = string
}

variable "stage_name" {
  description = "Name of the API stage; it prefixes every path (e.g. /dev/code-generation)."
  type        = string
}

variable "route_keys" {
  description = "The routes the API serves (\"METHOD /path\", {param} for a path parameter), all by the one function."
  type        = list(string)

  validation {
    condition     = length(var.route_keys) > 0 && alltrue([for key in var.route_keys : can(regex("^(GET|PUT|POST|PATCH|DELETE|HEAD|OPTIONS|ANY) /[A-Za-z0-9._~{}/-]*$", key))])
    error_message = "route_keys must name at least one route, each as \"METHOD /path\" (e.g. \"GET /code-generation/jobs/{id}\")."
  }
}

variable "function_name" {
  description = "Name of the Lambda function the routes invoke."
  type        = string
}

variable "function_invoke_arn" {
  description = "Invoke ARN of that function."
  type        = string
}

variable "authorization_type" {
  description = "Route authorization: AWS_IAM (SigV4-signed requests only) or NONE (open to anyone: say so explicitly)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.authorization_type)
    error_message = "authorization_type must be AWS_IAM or NONE."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the stage allows."
  type        = number
  default     = 10

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive: 0 blocks every request."
  }
}

variable "throttling_burst_limit" {
  description = "Burst of requests the stage allows above the rate."
  type        = number
  default     = 20

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive: 0 blocks every request."
  }
}

variable "integration_timeout_ms" {
  description = "How long the API waits for the function (at most 30000 ms)."
  type        = number
  default     = 30000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 30000
    error_message = "integration_timeout_ms must be between 50 and 30000."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the access logs."
  type        = number
  default     = 30
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
