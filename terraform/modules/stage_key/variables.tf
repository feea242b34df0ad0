variable "name" {
  description = "The stage's name prefix (project and stage): the key's description and alias (alias/<name>)."
  type        = string
}

variable "log_group_names" {
  description = "The log groups CloudWatch Logs may encrypt with the key (the stage's functions' and its API's access log)."
  type        = list(string)

  validation {
    condition     = length(var.log_group_names) > 0
    error_message = "log_group_names must name at least one log group."
  }
}

variable "deletion_window_in_days" {
  description = "Days a deleted key waits before it is gone for good (7-30): until then, cancelling the deletion recovers everything it encrypted."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
