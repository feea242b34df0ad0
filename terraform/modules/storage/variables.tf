variable "bucket_name" {
  description = "Name of the bucket that receives generated code. Must be globally unique; derive it from project, stage and account."
  type        = string
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket while it still holds objects (and all their versions). Keep false for production."
  type        = bool
}

variable "enable_lifecycle" {
  description = "Manage a lifecycle configuration that expires old object versions and aborts stale multipart uploads."
  type        = bool
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which a non-current object version is deleted (when enable_lifecycle is true)."
  type        = number
}

variable "code_expiration_days" {
  description = "Days after which stored code expires (when enable_lifecycle is true); null keeps it until deleted by hand."
  type        = number
  nullable    = true
}

variable "kms_key_arn" {
  description = "A customer-managed KMS key (its ARN) to encrypt with; null uses the AWS-managed or AWS-owned key."
  type        = string
}
