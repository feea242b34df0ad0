variable "name" {
  description = "Prefix of the topic's, the alarms' and the dashboard's names (project and stage)."
  type        = string
}

variable "stage" {
  description = "The stage's name: the Stage dimension of the service's own metrics."
  type        = string
}

variable "metrics_namespace" {
  description = "Namespace of the service's own metrics (the functions' EMF records)."
  type        = string
}

variable "api_id" {
  description = "Id of the HTTP API (the ApiId dimension of AWS/ApiGateway metrics)."
  type        = string
}

variable "api_stage_name" {
  description = "Name of the API's stage (the Stage dimension of AWS/ApiGateway metrics)."
  type        = string
}

variable "functions" {
  description = "The stage's functions by short name (api, worker): each one's name and timeout in seconds."
  type = map(object({
    name            = string
    timeout_seconds = number
  }))

  validation {
    condition     = length(var.functions) > 0 && alltrue([for f in values(var.functions) : f.timeout_seconds > 0])
    error_message = "functions must name at least one function, each with a positive timeout_seconds."
  }
}

variable "jobs_queue_name" {
  description = "Name of the jobs queue (AWS/SQS QueueName)."
  type        = string
}

variable "dead_letter_queue_name" {
  description = "Name of the jobs' dead-letter queue (AWS/SQS QueueName)."
  type        = string
}

variable "model_id" {
  description = "The stage's model id or inference profile (the ModelId dimension of AWS/Bedrock metrics)."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm by the link AWS sends)."
  type        = list(string)
}


variable "kms_key_arn" {
  description = "The customer-managed KMS key that encrypts the alarm topic: its policy must let cloudwatch.amazonaws.com use it (the AWS-managed aws/sns key cannot be used by alarms; modules/kms_key's policy does)."
  type        = string
}

variable "api_5xx_ratio_threshold" {
  description = "Alarm when more than this share of the API's requests in 5 minutes answer 5xx (0-1)."
  type        = number
  default     = 0.05

  validation {
    condition     = var.api_5xx_ratio_threshold > 0 && var.api_5xx_ratio_threshold <= 1
    error_message = "api_5xx_ratio_threshold must be in (0, 1]."
  }
}

variable "function_error_rate_threshold" {
  description = "Alarm when more than this share of a function's invocations in 5 minutes fail (0-1)."
  type        = number
  default     = 0.05

  validation {
    condition     = var.function_error_rate_threshold > 0 && var.function_error_rate_threshold <= 1
    error_message = "function_error_rate_threshold must be in (0, 1]."
  }
}

variable "function_throttles_threshold" {
  description = "Alarm when a function is throttled at least this many times in 5 minutes."
  type        = number
  default     = 1

  validation {
    condition     = var.function_throttles_threshold >= 1
    error_message = "function_throttles_threshold must be at least 1."
  }
}

variable "duration_alarm_ratio" {
  description = "Alarm when a function's p99 duration over 5 minutes passes this share of its timeout (0-1)."
  type        = number
  default     = 0.8

  validation {
    condition     = var.duration_alarm_ratio > 0 && var.duration_alarm_ratio < 1
    error_message = "duration_alarm_ratio must be in (0, 1)."
  }
}

variable "queue_oldest_message_age_threshold" {
  description = "Alarm when the oldest job message has waited longer than this many seconds."
  type        = number
}

variable "bedrock_throttles_threshold" {
  description = "Alarm when the stage's model is throttled at least this many times in 5 minutes (AWS/Bedrock counts the whole account's calls to it)."
  type        = number
  default     = 1

  validation {
    condition     = var.bedrock_throttles_threshold >= 1
    error_message = "bedrock_throttles_threshold must be at least 1."
  }
}

variable "output_tokens_per_hour_budget" {
  description = "Alarm when the stage's functions write more output tokens than this in an hour (its own OutputTokens metric)."
  type        = number
}

variable "price_per_1000_input_tokens" {
  description = "The model's price per 1,000 input tokens (USD), for the dashboard's estimated cost."
  type        = number
}

variable "price_per_1000_output_tokens" {
  description = "The model's price per 1,000 output tokens (USD), for the dashboard's estimated cost."
  type        = number
}

