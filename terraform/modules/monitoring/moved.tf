# Stacks deployed before the alarms became one table find them under their table keys.

moved {
  from = aws_cloudwatch_metric_alarm.api_5xx
  to   = aws_cloudwatch_metric_alarm.this["api-5xx"]
}

moved {
  from = aws_cloudwatch_metric_alarm.queue_age
  to   = aws_cloudwatch_metric_alarm.this["jobs-oldest-message"]
}

moved {
  from = aws_cloudwatch_metric_alarm.dead_letters
  to   = aws_cloudwatch_metric_alarm.this["jobs-dead-letters"]
}

moved {
  from = aws_cloudwatch_metric_alarm.model_throttles
  to   = aws_cloudwatch_metric_alarm.this["model-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.output_tokens
  to   = aws_cloudwatch_metric_alarm.this["output-tokens-per-hour"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["api"]
  to   = aws_cloudwatch_metric_alarm.this["api-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["api"]
  to   = aws_cloudwatch_metric_alarm.this["api-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_duration["api"]
  to   = aws_cloudwatch_metric_alarm.this["api-duration-p99"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["jobs"]
  to   = aws_cloudwatch_metric_alarm.this["jobs-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["jobs"]
  to   = aws_cloudwatch_metric_alarm.this["jobs-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_duration["jobs"]
  to   = aws_cloudwatch_metric_alarm.this["jobs-duration-p99"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["worker"]
  to   = aws_cloudwatch_metric_alarm.this["worker-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["worker"]
  to   = aws_cloudwatch_metric_alarm.this["worker-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_duration["worker"]
  to   = aws_cloudwatch_metric_alarm.this["worker-duration-p99"]
}
