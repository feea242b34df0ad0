# Spend per caller (lambda/codegen/spend): counters per caller and period (day, month), the
# reservations that hold budgets before the model is called, and the budget overrides by
# caller, which Terraform writes here from the stage file.

resource "aws_dynamodb_table" "spend" {
  #checkov:skip=CKV_AWS_119:the stage's customer-managed key encrypts the table where the stage's kms_key sets one (prod creates one); dev and local choose the AWS-managed aws/dynamodb key for counters of tokens and cost
  #checkov:skip=CKV2_AWS_16:on-demand capacity: there is nothing to auto-scale
  #checkov:skip=CKV_AWS_28:its items are counters rebuilt by use and expire after retention_days; point-in-time recovery is a variable (point_in_time_recovery), off by default
  name         = "${var.name}-spend"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "caller"
  range_key    = "period"

  attribute {
    name = "caller"
    type = "S"
  }

  attribute {
    name = "period"
    type = "S"
  }

  # A period's counters expire retention_days after the period ends (the function sets it).
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

# A caller's own budget over the stage's default: by owner id, or by a role's ARN (every
# session of the role). The function reads it with the counters, in one request.
resource "aws_dynamodb_table_item" "budget" {
  for_each = var.budget_overrides

  table_name = aws_dynamodb_table.spend.name
  hash_key   = aws_dynamodb_table.spend.hash_key
  range_key  = aws_dynamodb_table.spend.range_key
  item = jsonencode({
    caller = { S = each.key }
    period = { S = "budget" }
    limits = { S = jsonencode(each.value) }
  })
}
