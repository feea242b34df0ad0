# Where stages deployed before a refactoring find their resources now: Terraform moves them in
# the state instead of destroying and recreating them.

# The three functions became one module call over a table (terraform/main.tf).
moved {
  from = module.function
  to   = module.function["api"]
}

moved {
  from = module.jobs_api
  to   = module.function["jobs"]
}

moved {
  from = module.worker
  to   = module.function["worker"]
}

# The layer was the API function's; it is the stage's own resource now.
moved {
  from = module.function["api"].aws_lambda_layer_version.dependencies[0]
  to   = aws_lambda_layer_version.dependencies
}

# The alarm topic's own key was the monitoring module's; keys come from modules/kms_key now.
moved {
  from = module.monitoring.aws_kms_key.alarms[0]
  to   = module.alarm_topic_key[0].aws_kms_key.this
}

moved {
  from = module.monitoring.aws_kms_alias.alarms[0]
  to   = module.alarm_topic_key[0].aws_kms_alias.this
}

# The idempotency table's module became the stage's one table module (modules/dynamodb_table).
moved {
  from = module.idempotency.aws_dynamodb_table.answers
  to   = module.idempotency.aws_dynamodb_table.this
}

# The spend table and its overrides were a module of their own for a while.
moved {
  from = module.spend.aws_dynamodb_table.spend
  to   = module.spend.aws_dynamodb_table.this
}

moved {
  from = module.spend.aws_dynamodb_table_item.budget
  to   = aws_dynamodb_table_item.budget
}
