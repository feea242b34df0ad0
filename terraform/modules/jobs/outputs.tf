output "queue_url" {
  description = "URL of the jobs queue (the API function sends to it)."
  value       = aws_sqs_queue.jobs.id
}

output "queue_arn" {
  description = "ARN of the jobs queue (the worker's event source)."
  value       = aws_sqs_queue.jobs.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.id
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "table_name" {
  description = "Name of the jobs table."
  value       = aws_dynamodb_table.jobs.name
}

output "table_arn" {
  description = "ARN of the jobs table."
  value       = aws_dynamodb_table.jobs.arn
}

output "queue_name" {
  description = "Name of the jobs queue."
  value       = aws_sqs_queue.jobs.name
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.name
}

output "owner_index_name" {
  description = "Name of the table's index of each caller's jobs (hash owner, range created_at)."
  value       = local.owner_index_name
}

output "owner_index_arn" {
  description = "ARN of that index (for dynamodb:Query)."
  value       = "${aws_dynamodb_table.jobs.arn}/index/${local.owner_index_name}"
}
