# One Lambda function with its log group and least-privilege role (the root makes three from
# one table, terraform/main.tf's local.functions, over one dependencies layer).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # An inference profile id is a foundation model id with a geography prefix.
  profile_prefixes     = ["us", "eu", "apac", "us-gov", "global"]
  model_id_parts       = split(".", var.model_id)
  is_inference_profile = length(local.model_id_parts) > 2 && contains(local.profile_prefixes, local.model_id_parts[0])
  foundation_model_id  = local.is_inference_profile ? join(".", slice(local.model_id_parts, 1, length(local.model_id_parts))) : var.model_id

  # A profile routes each request to the foundation model in one of its geography's Regions:
  # the function may invoke the profile, and the model there only through that profile.
  profile_arn = "arn:${local.partition}:bedrock:${local.region}:${local.account_id}:inference-profile/${var.model_id}"
  profile_region_patterns = {
    us       = "us-*"
    "us-gov" = "us-gov-*"
    eu       = "eu-*"
    apac     = "ap-*"
    global   = "*"
  }
  profile_model_arn = local.is_inference_profile ? "arn:${local.partition}:bedrock:${local.profile_region_patterns[local.model_id_parts[0]]}::foundation-model/${local.foundation_model_id}" : null
  model_arns = local.is_inference_profile ? [local.profile_arn, local.profile_model_arn] : [
    "arn:${local.partition}:bedrock:${local.region}::foundation-model/${var.model_id}",
  ]

  # Converse needs InvokeModel; ConverseStream, InvokeModelWithResponseStream.
  model_actions = var.streams_model ? ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"] : ["bedrock:InvokeModel"]

  log_group_name = "/aws/lambda/${var.function_name}"
  prefix         = trimsuffix(var.output_prefix, "/")
  generates_code = var.stored_keys != null
}

# Lambda writes to /aws/lambda/<function name> by default: creating that group here gives it a
# retention period and makes Terraform remove it with the function.
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:the stage's customer-managed key encrypts the group where the stage's kms_key sets one (prod creates one); dev and local choose CloudWatch Logs' own encryption (their logs hold prompts when log_prompts is on)
  #checkov:skip=CKV_AWS_338:retention is a stage setting (log_retention_days): 14 days in dev, 90 in prod, chosen per stage
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "permissions" {
  statement {
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # Built from its name (not the group's attribute), so the plan shows the whole policy.
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}:*"]
  }

  # A function that writes code stores it, and calls the stage's model: a plain model id in
  # the stage's Region, or an inference profile. One that does not (no stored_keys) neither.
  dynamic "statement" {
    for_each = local.generates_code ? ["${var.output_bucket_arn}/${local.prefix}/${var.stored_keys}"] : []
    content {
      sid       = "StoreGeneratedCode"
      actions   = ["s3:PutObject"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.generates_code ? [local.model_arns[0]] : []
    content {
      sid       = "InvokeConfiguredModel"
      actions   = local.model_actions
      resources = [statement.value]
    }
  }

  # With a profile, its foundation model in the profile's Regions, only when the call comes
  # through that very profile: never directly, never in another geography.
  dynamic "statement" {
    for_each = local.is_inference_profile && local.generates_code ? [local.profile_model_arn] : []
    content {
      sid       = "InvokeModelThroughProfile"
      actions   = local.model_actions
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "bedrock:InferenceProfileArn"
        values   = [local.profile_arn]
      }
    }
  }

  # The stage's own key, when its data is encrypted with one: through S3 (code), SQS (jobs)
  # and DynamoDB (records, answers) only. (A dynamic block, not a policy with a count: the
  # key's ARN is not known before the key exists.)
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseStageKeyThroughItsServices"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for service in ["s3", "sqs", "dynamodb"] : "${service}.${local.region}.amazonaws.com"]
      }
    }
  }
}

# X-Ray accepts trace segments only on "*": it has no resource-level permissions.
data "aws_iam_policy_document" "tracing" {
  #checkov:skip=CKV_AWS_111:X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions
  #checkov:skip=CKV_AWS_356:X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions
  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "tracing" {
  count  = var.tracing_enabled ? 1 : 0
  name   = "${var.function_name}-tracing"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.tracing.json
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-permissions"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

# Stacks deployed while this policy was optional keep it.
moved {
  from = aws_iam_role_policy.additional[0]
  to   = aws_iam_role_policy.additional
}

# What the caller grants beyond the module's own (e.g. a queue to send to, a table to write).
resource "aws_iam_role_policy" "additional" {
  name   = "${var.function_name}-additional"
  role   = aws_iam_role.this.id
  policy = var.additional_policy_json
}

# Taking messages from the queue that triggers the function: that queue only.
data "aws_iam_policy_document" "consume_queue" {
  count = var.sqs_event_source == null ? 0 : 1

  statement {
    sid       = "ConsumeOwnQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [var.sqs_event_source.queue_arn]
  }
}

resource "aws_iam_role_policy" "consume_queue" {
  count  = var.sqs_event_source == null ? 0 : 1
  name   = "${var.function_name}-queue"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.consume_queue[0].json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:invoked synchronously only (by API Gateway, or by an SQS event source mapping whose queue has its own dead-letter queue): a function dead-letter queue applies to asynchronous invocations
  #checkov:skip=CKV_AWS_117:calls only AWS's public Bedrock, S3, DynamoDB and SQS endpoints over TLS with IAM auth; a VPC would add NAT gateways and endpoints for no isolation gain
  #checkov:skip=CKV_AWS_272:the zip is built reproducibly and deployed by content hash from this repository; AWS Signer code signing is not set up
  #checkov:skip=CKV_AWS_173:the environment holds no secrets (model id, bucket name, limits); the default AWS-managed key encrypts it
  function_name                  = var.function_name
  role                           = aws_iam_role.this.arn
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  filename                       = var.function_zip_path
  source_code_hash               = var.function_zip_base64_sha256
  layers                         = [var.layer_arn]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  environment {
    variables = merge(var.environment, {
      MODEL_ID      = var.model_id
      OUTPUT_BUCKET = var.output_bucket_name
      OUTPUT_PREFIX = var.output_prefix
      # Leave room for the handler's own work before the function times out.
      BEDROCK_READ_TIMEOUT = tostring(max(var.timeout - 3, 1))
    })
  }


  depends_on = [
    aws_iam_role_policy.this,
    aws_iam_role_policy.additional,
    aws_iam_role_policy.tracing,
    aws_cloudwatch_log_group.this,
  ]
}

# Lambda polls the queue and invokes the function with one batch at a time; records the
# function names in batchItemFailures are delivered again, the others deleted.
resource "aws_lambda_event_source_mapping" "sqs" {
  count = var.sqs_event_source == null ? 0 : 1

  event_source_arn        = var.sqs_event_source.queue_arn
  function_name           = aws_lambda_function.this.arn
  batch_size              = var.sqs_event_source.batch_size
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sqs_event_source.maximum_concurrency
  }

  depends_on = [aws_iam_role_policy.consume_queue, aws_iam_role_policy.this]
}
