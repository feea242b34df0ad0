variable "name" {
  description = "Name of the HTTP API."
  type        = string
}

variable "stage_name" {
  description = "Name of the API stage; it prefixes every path (e.g. /dev/code-generation)."
  type        = string
}

variable "functions" {
  description = "The functions behind the routes, by short name (the first stacks' one is \"api\"): each one's name, invoke ARN and the routes it serves (\"METHOD /path\", {param} for a path parameter)."
  type = map(object({
    name       = string
    invoke_arn = string
    route_keys = list(string)
  }))

  validation {
    condition     = length(var.functions) > 0 && alltrue([for f in values(var.functions) : length(f.route_keys) > 0 && alltrue([for key in f.route_keys : can(regex("^(GET|PUT|POST|PATCH|DELETE|HEAD|OPTIONS|ANY) /[A-Za-z0-9._~{}/-]*$", key))])])
    error_message = "functions must name at least one function, each serving at least one route as \"METHOD /path\" (e.g. \"GET /code-generation/jobs/{id}\")."
  }

  validation {
    condition     = length(flatten([for f in values(var.functions) : f.route_keys])) == length(distinct(flatten([for f in values(var.functions) : f.route_keys])))
    error_message = "functions must not name a route twice: each route has one function."
  }
}

variable "authorization_type" {
  description = "Route authorization: AWS_IAM (SigV4-signed requests only) or NONE (open to anyone: say so explicitly)."
  type        = string
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the stage allows."
  type        = number
}

variable "throttling_burst_limit" {
  description = "Burst of requests the stage allows above the rate."
  type        = number
}

variable "integration_timeout_ms" {
  description = "How long the API waits for the function (at most 30000 ms)."
  type        = number
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the access logs."
  type        = number
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed or AWS-owned key."
  type        = string
}
