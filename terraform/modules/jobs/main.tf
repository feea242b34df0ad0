# Asynchronous generation jobs: the queue a worker takes them from, its dead-letter queue, and
# the table of job records.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  queue_name             = "${var.name}-jobs"
  owner_index_name       = "owner-created"
  dead_letter_queue_name = "${var.name}-jobs-dlq"
  # Known before the queue exists, so the dead-letter queue can name it without waiting.
  queue_arn = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${local.queue_name}"
}

# Messages that were delivered max_receive_count times without being finished: kept for a
# person to look at (their jobs are recorded failed by the worker's last attempt).
resource "aws_sqs_queue" "dead_letter" {
  name                      = local.dead_letter_queue_name
  message_retention_seconds = var.dead_letter_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  # Only the jobs queue may move messages here.
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.queue_arn]
  })
}

resource "aws_sqs_queue" "jobs" {
  name                      = local.queue_name
  message_retention_seconds = var.message_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  # A message stays hidden while a worker runs its job: longer than the worker may run, so
  # that it is delivered again only once that worker is surely gone.
  visibility_timeout_seconds = var.visibility_timeout_seconds
  # Its redrive policy is a resource of its own (below), so that the two queues are created
  # at once: the provider checks each new queue's attributes for ~25 s, and a redrive policy
  # here would have the queue wait for the dead-letter queue's checks first.

  lifecycle {
    precondition {
      condition     = var.message_retention_seconds > var.job_deadline_seconds
      error_message = "message_retention_seconds (${var.message_retention_seconds}) must exceed job_deadline_seconds (${var.job_deadline_seconds}): a message deleted by its retention is never dead-lettered, and its job would wait for its deadline with nothing to run it. Lower job_max_receive_count or the visibility timeout."
    }
    precondition {
      condition     = var.visibility_timeout_seconds >= var.consumer_timeout_seconds + 10
      error_message = "visibility_timeout_seconds (${var.visibility_timeout_seconds}) must be at least the worker's timeout (${var.consumer_timeout_seconds} s) + 10 s: a worker holds its job until 5 s past its timeout, and a job must not be delivered again while it may still run."
    }
  }
}

# A message delivered max_receive_count times moves to the dead-letter queue. The worker's
# event source waits for this (the consumer_queue_arn output): no job runs before a failing
# one can be dead-lettered.
resource "aws_sqs_queue_redrive_policy" "jobs" {
  queue_url = aws_sqs_queue.jobs.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_dynamodb_table" "jobs" {
  #checkov:skip=CKV_AWS_119:the stage's customer-managed key encrypts the table where the stage's kms_key sets one (prod creates one); dev and local choose the AWS-managed aws/dynamodb key for records that hold prompts and code for job_ttl_days
  #checkov:skip=CKV2_AWS_16:on-demand capacity: there is nothing to auto-scale
  #checkov:skip=CKV_AWS_28:job records live job_ttl_days and their code is in the versioned bucket; point-in-time recovery is a variable (point_in_time_recovery), off by default for records this short-lived
  name         = "${var.name}-jobs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "job_id"

  attribute {
    name = "job_id"
    type = "S"
  }

  attribute {
    name = "owner"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "N"
  }

  # Each caller's jobs, newest last, with what tells an unfinished one: the API counts them
  # to hold each caller to its limit (max_unfinished_jobs_per_caller).
  global_secondary_index {
    name               = local.owner_index_name
    hash_key           = "owner"
    range_key          = "created_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["status", "ends_by", "expires_at"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection
}
