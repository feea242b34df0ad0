variable "name" {
  description = "Prefix of the table's name (project and stage)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,200}$", var.name))
    error_message = "name must be 1-200 letters, digits, dots, hyphens or underscores (a DynamoDB table name)."
  }
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery of the table (its items live one idempotency window: usually off)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the table (for a protected stage)."
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
