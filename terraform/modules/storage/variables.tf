variable "bucket_name" {
  description = "Name of the bucket that receives generated code. Must be globally unique; derive it from project, stage and account."
  type        = string
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket while it still holds objects (and all their versions). Keep false for production."
  type        = bool
  default     = false
}

variable "enable_lifecycle" {
  description = "Manage a lifecycle configuration that expires old object versions and aborts stale multipart uploads."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which a non-current object version is deleted (when enable_lifecycle is true)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "code_expiration_days" {
  description = "Days after which stored code expires (when enable_lifecycle is true); null keeps it until deleted by hand."
  type        = number
  default     = null
  nullable    = true

  validation {
    condition     = var.code_expiration_days == null ? true : var.code_expiration_days >= 1
    error_message = "code_expiration_days must be at least 1, or null to keep stored code."
  }
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
