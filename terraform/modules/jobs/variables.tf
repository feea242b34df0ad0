variable "name" {
  description = "Prefix of the queues' and the table's names (project and stage)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,70}$", var.name))
    error_message = "name must be 1-70 letters, digits, hyphens or underscores (SQS and DynamoDB names)."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a delivered job message stays hidden: at least the worker's timeout + 10 s."
  type        = number

  validation {
    condition     = var.visibility_timeout_seconds >= 1 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be a whole number of seconds from 1 to 43200 (12 hours, SQS's limit)."
  }
}

variable "consumer_timeout_seconds" {
  description = "The worker function's timeout: the visibility timeout must exceed it."
  type        = number

  validation {
    condition     = var.consumer_timeout_seconds >= 1 && var.consumer_timeout_seconds <= 900
    error_message = "consumer_timeout_seconds must be from 1 to 900 (Lambda's 15 minutes)."
  }
}

variable "max_receive_count" {
  description = "Deliveries of a job's message before it moves to the dead-letter queue."
  type        = number

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "job_deadline_seconds" {
  description = "The longest a job may take to end (its record is failed after it): messages must be kept longer."
  type        = number

  validation {
    condition     = var.job_deadline_seconds >= 1
    error_message = "job_deadline_seconds must be at least 1."
  }
}

variable "message_retention_seconds" {
  description = "How long an undelivered job message is kept: longer than job_deadline_seconds, so no message expires before its job is settled."
  type        = number
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be from 60 to 1209600 (14 days)."
  }
}

variable "dead_letter_retention_seconds" {
  description = "How long the dead-letter queue keeps a message for a person to look at."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_retention_seconds >= 60 && var.dead_letter_retention_seconds <= 1209600
    error_message = "dead_letter_retention_seconds must be from 60 to 1209600 (14 days)."
  }
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery of the jobs table (job records are short-lived: usually off)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the jobs table (for a protected stage)."
  type        = bool
  default     = false
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
