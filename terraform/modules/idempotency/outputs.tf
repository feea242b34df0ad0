output "table_name" {
  description = "Name of the table of kept answers."
  value       = aws_dynamodb_table.answers.name
}

output "table_arn" {
  description = "ARN of the table of kept answers."
  value       = aws_dynamodb_table.answers.arn
}
