variable "name" {
  description = "Prefix of the table's name (project and stage)."
  type        = string
}

variable "budget_overrides" {
  description = "Budgets by caller (owner id or role ARN), each a map of limits (tokens_per_day, tokens_per_month, usd_per_day, usd_per_month); the root validates them."
  type        = map(map(number))
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery of the table (counters, rebuilt by use: usually off)."
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
