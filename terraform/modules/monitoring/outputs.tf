output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the topic (the one it was given)."
  value       = var.kms_key_arn
}

output "alarm_names" {
  description = "Names of the stage's alarms."
  value       = local.alarm_names
}

output "dashboard_name" {
  description = "Name of the stage's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
