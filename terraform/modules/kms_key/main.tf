# A customer-managed KMS key, the one module that makes keys (terraform/main.tf uses it twice):
# the stage's own key, which encrypts its bucket, queues, tables, log groups and alarm topic
# when the stage asks for one (`kms_key`), or else the alarm topic's key alone (alarms cannot
# publish with the AWS-managed aws/sns key).
#
# The key policy lets the account administer and use the key through IAM (the functions'
# roles get kms:Decrypt/GenerateDataKey through S3, SQS and DynamoDB only), and lets the two
# services that use it as themselves do so: CloudWatch Logs for the named log groups only (if
# any), and CloudWatch alarms publishing to the stage's topic.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  log_group_arns = [
    for name in var.log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}"
  ]
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:all stages: a key policy, whose resource "*" is this key alone
  #checkov:skip=CKV_AWS_356:all stages: a key policy, whose resource "*" is this key alone
  #checkov:skip=CKV_AWS_109:all stages: a key policy; the account's root administers its own key (IAM policies then decide)
  # Without it the key is unmanageable; with it, IAM policies decide who else may use it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts as itself, for these log groups only (the encryption context
  # names the group).
  dynamic "statement" {
    for_each = length(local.log_group_arns) > 0 ? [local.log_group_arns] : []
    content {
      sid       = "CloudWatchLogsEncryptsTheStagesLogs"
      actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }
      condition {
        test     = "ArnEquals"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = statement.value
      }
    }
  }

  # CloudWatch alarms encrypt what they publish to the stage's topic.
  statement {
    sid       = "CloudWatchAlarmsPublish"
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

resource "aws_kms_key" "this" {
  description             = "${var.name}: ${var.purpose}"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
