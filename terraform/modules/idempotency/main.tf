# The answers kept for Idempotency-Key retries (lambda/codegen/http/idempotency.py, Powertools'
# Idempotency utility): one item per caller and key, removed by TTL once its window ends.

resource "aws_dynamodb_table" "answers" {
  #checkov:skip=CKV_AWS_119:the stage's customer-managed key encrypts the table where the stage's kms_key sets one (prod creates one); dev and local choose the AWS-managed aws/dynamodb key for answers kept the idempotency window
  #checkov:skip=CKV2_AWS_16:on-demand capacity: there is nothing to auto-scale
  #checkov:skip=CKV_AWS_28:its items are replays kept for at most the idempotency window; point-in-time recovery is a variable (point_in_time_recovery), off by default
  name         = "${var.name}-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  # Powertools' attribute names: `expiration` (epoch seconds) ends a kept answer.
  ttl {
    attribute_name = "expiration"
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
