variable "name" {
  description = "The table's name (project, stage and what it keeps)."
  type        = string
}

variable "hash_key" {
  description = "The partition key's attribute (a string)."
  type        = string
}

variable "range_key" {
  description = "The sort key's attribute (a string), or null for none."
  type        = string
  default     = null
}

variable "ttl_attribute" {
  description = "The attribute whose epoch seconds end an item (DynamoDB's TTL deletes it then, typically within two days)."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery of the table (its items are short-lived: usually off)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the table (for a protected stage)."
  type        = bool
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed key."
  type        = string
}
