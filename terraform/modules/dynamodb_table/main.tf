# One on-demand DynamoDB table whose items expire (TTL), encrypted with the stage's key when it
# has one: what the stage keeps that is not a job record. The root makes two from it: the
# answers kept for Idempotency-Key retries (lambda/codegen/http/idempotency.py) and the spend
# per caller and period (lambda/codegen/spend/).

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:the stage's customer-managed key encrypts the table where the stage's kms_key sets one (prod creates one); dev and local choose the AWS-managed aws/dynamodb key for items kept a short while (answers for the idempotency window, spend counters for their retention)
  #checkov:skip=CKV2_AWS_16:on-demand capacity: there is nothing to auto-scale
  #checkov:skip=CKV_AWS_28:its items are replays or counters that expire; point-in-time recovery is a variable (point_in_time_recovery), off by default
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.hash_key
  range_key    = var.range_key

  dynamic "attribute" {
    for_each = compact([var.hash_key, var.range_key])
    content {
      name = attribute.value
      type = "S"
    }
  }

  # The function sets this attribute (epoch seconds) on each item it writes.
  ttl {
    attribute_name = var.ttl_attribute
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
