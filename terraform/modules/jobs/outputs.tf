output "queue_url" {
  description = "URL of the jobs queue (the API function sends to it)."
  value       = aws_sqs_queue.jobs.id
}

output "queue_arn" {
  description = "ARN of the jobs queue (what submits jobs sends to it)."
  value       = aws_sqs_queue.jobs.arn
}

output "consumer_queue_arn" {
  description = "ARN of the jobs queue for its consumer (the worker's event source), known once the queue's redrive policy is set: no job runs before a failing one can be dead-lettered."
  value       = aws_sqs_queue.jobs.arn
  depends_on  = [aws_sqs_queue_redrive_policy.jobs]
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
