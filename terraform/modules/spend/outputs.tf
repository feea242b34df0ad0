output "table_name" {
  description = "Name of the spend table."
  value       = aws_dynamodb_table.spend.name
}

output "table_arn" {
  description = "ARN of the spend table."
  value       = aws_dynamodb_table.spend.arn
}
