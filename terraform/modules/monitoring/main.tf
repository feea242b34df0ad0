# Alarms for one stage, the topic they notify, and its dashboard. Every alarm says on purpose
# what missing data means: no traffic is not an incident (notBreaching), and SQS stops sending
# metrics for a queue idle for 6 hours.

data "aws_region" "current" {}

locals {
  region         = data.aws_region.current.name
  period_seconds = 300
  api_dimensions = { ApiId = var.api_id, Stage = var.api_stage_name }
  stage_metric   = { Stage = var.stage }
  alarm_actions  = [aws_sns_topic.alarms.arn]
}

# -- the topic ----------------------------------------------------------------------------
resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# -- the alarms: one table, one resource -------------------------------------------------
# Each alarm watches one metric (namespace, metric, dimensions, statistic: a pNN is an
# extended statistic) or, with `ratio`, an expression over Sum metrics of one namespace and
# dimensions (its `queries`, id => metric name). Every alarm is evaluated over one period and
# treats missing data as notBreaching.
locals {
  lambda = "AWS/Lambda"
  alarms = merge(
    {
      "api-5xx" = {
        description = "More than ${var.api_5xx_ratio_threshold * 100}% of the API's requests in 5 minutes answered 5xx: read `invoke logs --stage ${var.stage} --filter '\"status\": 5'`."
        namespace   = "AWS/ApiGateway", metric = null, dimensions = local.api_dimensions, statistic = "Sum", period = local.period_seconds
        comparison  = "GreaterThanThreshold", threshold = var.api_5xx_ratio_threshold
        ratio       = { id = "ratio", expression = "IF(requests > 0, errors / requests, 0)", label = "5xx share", queries = { errors = "5xx", requests = "Count" } }
      }
    },
    { for key, function in var.functions : "${key}-errors" => {
      description = "More than ${var.function_error_rate_threshold * 100}% of ${function.name}'s invocations in 5 minutes failed (an unhandled error, a timeout, a crash): read `invoke logs --stage ${var.stage} --function ${key} --filter ERROR`."
      namespace   = local.lambda, metric = null, dimensions = { FunctionName = function.name }, statistic = "Sum", period = local.period_seconds
      comparison  = "GreaterThanThreshold", threshold = var.function_error_rate_threshold
      ratio       = { id = "rate", expression = "IF(invocations > 0, errors / invocations, 0)", label = "error rate", queries = { errors = "Errors", invocations = "Invocations" } }
    } },
    { for key, function in var.functions : "${key}-throttles" => {
      description = "${function.name} was throttled: its reserved concurrency (the stage's cost ceiling) or the account's limit was reached."
      namespace   = local.lambda, metric = "Throttles", dimensions = { FunctionName = function.name }, statistic = "Sum", period = local.period_seconds
      comparison  = "GreaterThanOrEqualToThreshold", threshold = var.function_throttles_threshold, ratio = null
    } },
    { for key, function in var.functions : "${key}-duration-p99" => {
      description = "${function.name}'s p99 duration passed ${var.duration_alarm_ratio * 100}% of its ${function.timeout_seconds} s timeout: requests are about to time out (a slow model, or max_tokens too high for the timeout)."
      namespace   = local.lambda, metric = "Duration", dimensions = { FunctionName = function.name }, statistic = "p99", period = local.period_seconds
      comparison  = "GreaterThanThreshold", threshold = floor(function.timeout_seconds * 1000 * var.duration_alarm_ratio), ratio = null
    } },
    {
      # SQS stops reporting a queue idle for 6 hours: missing data is no incident.
      "jobs-oldest-message" = {
        description = "A job has waited more than ${var.queue_oldest_message_age_threshold} s for a worker: the worker is failing, throttled or too few."
        namespace   = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", dimensions = { QueueName = var.jobs_queue_name }, statistic = "Maximum", period = local.period_seconds
        comparison  = "GreaterThanThreshold", threshold = var.queue_oldest_message_age_threshold, ratio = null
      }
      "jobs-dead-letters" = {
        description = "A job message reached the dead-letter queue: its job failed after every delivery. Read its job with `invoke logs --stage ${var.stage} --job-id ID`."
        namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.dead_letter_queue_name }, statistic = "Maximum", period = local.period_seconds
        comparison  = "GreaterThanThreshold", threshold = 0, ratio = null
      }
      "model-throttles" = {
        description = "Bedrock throttled calls to ${var.model_id} (counted for the whole account): ask for a higher quota, or use a cross-Region inference profile."
        namespace   = "AWS/Bedrock", metric = "InvocationThrottles", dimensions = { ModelId = var.model_id }, statistic = "Sum", period = local.period_seconds
        comparison  = "GreaterThanOrEqualToThreshold", threshold = var.bedrock_throttles_threshold, ratio = null
      }
      # The money alarm, on the stage's own metric (no generations: nothing spent).
      "output-tokens-per-hour" = {
        description = "The stage wrote more than ${var.output_tokens_per_hour_budget} output tokens in an hour: its model budget. Find who with `invoke logs --stage ${var.stage} --filter output_tokens`."
        namespace   = var.metrics_namespace, metric = "OutputTokens", dimensions = local.stage_metric, statistic = "Sum", period = 3600
        comparison  = "GreaterThanThreshold", threshold = var.output_tokens_per_hour_budget, ratio = null
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  # One metric: set here. A ratio: its queries below, and none of these.
  namespace          = each.value.ratio == null ? each.value.namespace : null
  metric_name        = each.value.ratio == null ? each.value.metric : null
  dimensions         = each.value.ratio == null ? each.value.dimensions : null
  period             = each.value.ratio == null ? each.value.period : null
  statistic          = each.value.ratio == null && !startswith(each.value.statistic, "p") ? each.value.statistic : null
  extended_statistic = each.value.ratio == null && startswith(each.value.statistic, "p") ? each.value.statistic : null

  dynamic "metric_query" {
    for_each = each.value.ratio == null ? [] : [each.value.ratio]
    content {
      id          = metric_query.value.id
      expression  = metric_query.value.expression
      label       = metric_query.value.label
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = each.value.ratio == null ? {} : each.value.ratio.queries
    content {
      id = metric_query.key
      metric {
        namespace   = each.value.namespace
        metric_name = metric_query.value
        dimensions  = each.value.dimensions
        period      = each.value.period
        stat        = each.value.statistic
      }
    }
  }
}

locals {
  alarm_arns  = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
  alarm_names = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name]
  ns          = var.metrics_namespace
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
