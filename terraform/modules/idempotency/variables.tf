variable "name" {
  description = "Prefix of the table's name (project and stage)."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery of the table (its items live one idempotency window: usually off)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the table (for a protected stage)."
  type        = bool
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed or AWS-owned key."
  type        = string
}
