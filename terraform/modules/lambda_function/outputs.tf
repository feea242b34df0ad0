output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway uses to invoke the function."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "event_source_mapping_uuid" {
  description = "Id of the SQS event source mapping (null without one)."
  value       = try(aws_lambda_event_source_mapping.sqs[0].uuid, null)
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}

output "model_arns" {
  description = "Bedrock resources the function may invoke."
  value       = local.model_arns
}
