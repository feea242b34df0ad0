variable "name" {
  description = "The key's name: its alias (alias/<name>) and the start of its description."
  type        = string
}

variable "purpose" {
  description = "What the key encrypts, in words: the rest of its description."
  type        = string
}

variable "log_group_names" {
  description = "The log groups CloudWatch Logs may encrypt with the key (none: CloudWatch Logs may not use it)."
  type        = list(string)
}

variable "deletion_window_in_days" {
  description = "Days a deleted key waits before it is gone for good (7-30): until then, cancelling the deletion recovers everything it encrypted."
  type        = number

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}
