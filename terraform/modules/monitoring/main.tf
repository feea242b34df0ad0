# Alarms for one stage, the topic they notify, and its dashboard. Every alarm says on purpose
# what missing data means: no traffic is not an incident (notBreaching), and SQS stops sending
# metrics for a queue idle for 6 hours.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  region         = data.aws_region.current.name
  topic_key_arn  = var.create_kms_key ? aws_kms_key.alarms[0].arn : var.kms_key_arn
  period_seconds = 300
  api_dimensions = { ApiId = var.api_id, Stage = var.api_stage_name }
  stage_metric   = { Stage = var.stage }
  alarm_actions  = [aws_sns_topic.alarms.arn]
}

# -- the topic ----------------------------------------------------------------------------
data "aws_iam_policy_document" "alarm_key" {
  #checkov:skip=CKV_AWS_111:all stages: a key policy, whose resource "*" is this key alone
  #checkov:skip=CKV_AWS_356:all stages: a key policy, whose resource "*" is this key alone
  #checkov:skip=CKV_AWS_109:all stages: a key policy; the account's root administers its own key (IAM policies then decide)
  count = var.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch encrypts what it publishes to the topic with this key.
  statement {
    sid       = "CloudWatchPublishes"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "alarms" {
  count = var.create_kms_key ? 1 : 0

  description             = "${var.name}: the alarm topic's messages"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.alarm_key[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "alarms" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.alarms[0].key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = local.topic_key_arn
  tags              = var.tags

  lifecycle {
    precondition {
      condition     = var.create_kms_key || var.kms_key_arn != null
      error_message = "With create_kms_key false, kms_key_arn must name the topic's key."
    }
  }
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# -- the API ------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "More than ${var.api_5xx_ratio_threshold * 100}% of the API's requests in 5 minutes answered 5xx: read `invoke logs --stage ${var.stage} --filter '\"status\": 5'`."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_ratio_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching" # no requests: nothing failed
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "IF(requests > 0, errors / requests, 0)"
    label       = "5xx share"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = local.api_dimensions
      period      = local.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = local.api_dimensions
      period      = local.period_seconds
      stat        = "Sum"
    }
  }
}

# -- the functions ------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = var.functions

  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "More than ${var.function_error_rate_threshold * 100}% of ${each.value.name}'s invocations in 5 minutes failed (an unhandled error, a timeout, a crash): read `invoke logs --stage ${var.stage} --function ${each.key} --filter ERROR`."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.function_error_rate_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching" # not invoked: nothing failed
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(invocations > 0, errors / invocations, 0)"
    label       = "error rate"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = each.value.name }
      period      = local.period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "invocations"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = each.value.name }
      period      = local.period_seconds
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = var.functions

  alarm_name          = "${var.name}-${each.key}-throttles"
  alarm_description   = "${each.value.name} was throttled: its reserved concurrency (the stage's cost ceiling) or the account's limit was reached."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value.name }
  statistic           = "Sum"
  period              = local.period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.function_throttles_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_duration" {
  for_each = var.functions

  alarm_name          = "${var.name}-${each.key}-duration-p99"
  alarm_description   = "${each.value.name}'s p99 duration passed ${var.duration_alarm_ratio * 100}% of its ${each.value.timeout_seconds} s timeout: requests are about to time out (a slow model, or max_tokens too high for the timeout)."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = each.value.name }
  extended_statistic  = "p99"
  period              = local.period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = floor(each.value.timeout_seconds * 1000 * var.duration_alarm_ratio)
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# -- the jobs -----------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "queue_age" {
  alarm_name          = "${var.name}-jobs-oldest-message"
  alarm_description   = "A job has waited more than ${var.queue_oldest_message_age_threshold} s for a worker: the worker is failing, throttled or too few."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = var.jobs_queue_name }
  statistic           = "Maximum"
  period              = local.period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.queue_oldest_message_age_threshold
  treat_missing_data  = "notBreaching" # SQS stops reporting a queue idle for 6 hours
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-jobs-dead-letters"
  alarm_description   = "A job message reached the dead-letter queue: its job failed after every delivery. Read its job with `invoke logs --stage ${var.stage} --job-id ID`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dead_letter_queue_name }
  statistic           = "Maximum"
  period              = local.period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching" # SQS stops reporting a queue idle for 6 hours
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# -- the model ----------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "model_throttles" {
  alarm_name          = "${var.name}-model-throttles"
  alarm_description   = "Bedrock throttled calls to ${var.model_id} (counted for the whole account): ask for a higher quota, or use a cross-Region inference profile."
  namespace           = "AWS/Bedrock"
  metric_name         = "InvocationThrottles"
  dimensions          = { ModelId = var.model_id }
  statistic           = "Sum"
  period              = local.period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.bedrock_throttles_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "output_tokens" {
  alarm_name          = "${var.name}-output-tokens-per-hour"
  alarm_description   = "The stage wrote more than ${var.output_tokens_per_hour_budget} output tokens in an hour: its model budget. Find who with `invoke logs --stage ${var.stage} --filter output_tokens`."
  namespace           = var.metrics_namespace
  metric_name         = "OutputTokens"
  dimensions          = local.stage_metric
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.output_tokens_per_hour_budget
  treat_missing_data  = "notBreaching" # no generations: nothing spent
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

locals {
  alarm_arns = concat(
    [aws_cloudwatch_metric_alarm.api_5xx.arn],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.function_duration : alarm.arn],
    [
      aws_cloudwatch_metric_alarm.queue_age.arn,
      aws_cloudwatch_metric_alarm.dead_letters.arn,
      aws_cloudwatch_metric_alarm.model_throttles.arn,
      aws_cloudwatch_metric_alarm.output_tokens.arn,
    ],
  )
  alarm_names = concat(
    [aws_cloudwatch_metric_alarm.api_5xx.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_duration : alarm.alarm_name],
    [
      aws_cloudwatch_metric_alarm.queue_age.alarm_name,
      aws_cloudwatch_metric_alarm.dead_letters.alarm_name,
      aws_cloudwatch_metric_alarm.model_throttles.alarm_name,
      aws_cloudwatch_metric_alarm.output_tokens.alarm_name,
    ],
  )
  ns = var.metrics_namespace
  # The dashboard: one row of service figures, one of the functions, one of the jobs.
  widgets = [
    {
      type = "metric", x = 0, y = 0, width = 8, height = 6
      properties = {
        title = "Requests and statuses", region = local.region, stat = "Sum", period = 300, view = "timeSeries"
        metrics = [
          [local.ns, "Requests", "Stage", var.stage],
          [local.ns, "Status2xx", "Stage", var.stage],
          [local.ns, "Status4xx", "Stage", var.stage],
          [local.ns, "Status5xx", "Stage", var.stage],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 0, width = 8, height = 6
      properties = {
        title = "Latency (ms)", region = local.region, period = 300, view = "timeSeries"
        metrics = [
          [local.ns, "Latency", "Stage", var.stage, { stat = "p50", label = "p50" }],
          [local.ns, "Latency", "Stage", var.stage, { stat = "p99", label = "p99" }],
          [local.ns, "ModelLatency", "Stage", var.stage, { stat = "p50", label = "model p50" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 0, width = 8, height = 6
      properties = {
        title = "Tokens and estimated model cost (USD)", region = local.region, period = 3600, view = "timeSeries"
        metrics = [
          [local.ns, "InputTokens", "Stage", var.stage, { id = "input", stat = "Sum" }],
          [local.ns, "OutputTokens", "Stage", var.stage, { id = "output", stat = "Sum" }],
          [{ expression = "input * ${var.price_per_1000_input_tokens} / 1000 + output * ${var.price_per_1000_output_tokens} / 1000", label = "estimated cost", id = "cost", yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title = "Jobs: queued and dead letters", region = local.region, stat = "Maximum", period = 300, view = "timeSeries"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.jobs_queue_name, { label = "queued" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", var.jobs_queue_name, { label = "running" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dead_letter_queue_name, { label = "dead letters" }],
        ]
      }
    },
    {
      type       = "alarm", x = 12, y = 6, width = 12, height = 6
      properties = { title = "Alarms", alarms = local.alarm_arns }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
