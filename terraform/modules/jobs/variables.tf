variable "name" {
  description = "Prefix of the queues' and the table's names (project and stage)."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "How long a delivered job message stays hidden: at least the worker's timeout + 10 s."
  type        = number
}

variable "consumer_timeout_seconds" {
  description = "The worker function's timeout: the visibility timeout must exceed it."
  type        = number
}

variable "max_receive_count" {
  description = "Deliveries of a job's message before it moves to the dead-letter queue."
  type        = number
}

variable "job_deadline_seconds" {
  description = "The longest a job may take to end (its record is failed after it): messages must be kept longer."
  type        = number
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
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed or AWS-owned key."
  type        = string
}
