output "invoke_url" {
  description = "Full URL of PUT /code-generation on this stage."
  value       = "${module.http_api.stage_invoke_url}${split(" ", local.routes.generate)[1]}"
}

output "stage_invoke_url" {
  description = "URL of the API stage."
  value       = module.http_api.stage_invoke_url
}

output "api_id" {
  description = "Id of the HTTP API (the local gateway serves it by this id)."
  value       = module.http_api.api_id
}

output "stage_name" {
  description = "Name of the API stage."
  value       = module.http_api.stage_name
}

output "route_keys" {
  description = "The routes served."
  value       = module.http_api.route_keys
}

output "route_authorization" {
  description = "Authorization of the route (AWS_IAM or NONE)."
  value       = var.route_authorization
}

output "region" {
  description = "Region of the stage."
  value       = var.aws_region
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = module.function["api"].function_name
}

output "layer_arn" {
  description = "ARN of the dependencies layer version."
  value       = aws_lambda_layer_version.dependencies.arn
}

output "bucket_name" {
  description = "Bucket holding generated code."
  value       = module.storage.bucket_name
}

output "function_log_group" {
  description = "Log group of the function."
  value       = module.function["api"].log_group_name
}

output "worker_log_group" {
  description = "Log group of the job worker function."
  value       = module.function["worker"].log_group_name
}

output "access_log_group" {
  description = "Log group of the API's access logs."
  value       = module.http_api.access_log_group_name
}

output "jobs_url" {
  description = "URL prefix of GET /code-generation/jobs/{id} on this stage."
  value       = "${module.http_api.stage_invoke_url}${trimsuffix(split(" ", local.routes.read_job)[1], "/{id}")}"
}

output "jobs_table" {
  description = "DynamoDB table of job records."
  value       = module.jobs.table_name
}

output "jobs_queue_url" {
  description = "SQS queue the job worker takes jobs from."
  value       = module.jobs.queue_url
}

output "jobs_dead_letter_queue_url" {
  description = "Dead-letter queue of jobs that were delivered job_max_receive_count times."
  value       = module.jobs.dead_letter_queue_url
}

output "worker_function_name" {
  description = "Name of the job worker function."
  value       = module.function["worker"].function_name
}

output "alarm_topic_arn" {
  description = "SNS topic the stage's alarms notify."
  value       = module.monitoring.topic_arn
}

output "alarm_names" {
  description = "Names of the stage's alarms."
  value       = module.monitoring.alarm_names
}

output "dashboard_name" {
  description = "Name of the stage's CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "metrics_namespace" {
  description = "Namespace of the stage's own metrics (Stage dimension: the stage's name)."
  value       = local.metrics_namespace
}

output "model_id" {
  description = "The Bedrock model id or inference profile id the functions call (`invoke status` reads its lifecycle)."
  value       = var.model_id
}

output "model_prices" {
  description = "The model's price per 1,000 input and output tokens (USD), for estimates."
  value = {
    input_per_1000  = var.price_per_1000_input_tokens
    output_per_1000 = var.price_per_1000_output_tokens
  }
}

output "jobs_dead_letter_queue_name" {
  description = "Name of the jobs' dead-letter queue."
  value       = module.jobs.dead_letter_queue_name
}

output "kms_key_arn" {
  description = "ARN of the stage's customer-managed key (kms_key), or null when it uses AWS-managed keys."
  value       = local.kms_key_arn
}

output "jobs_function_name" {
  description = "Name of the job routes' function (POST /code-generation/jobs, GET /code-generation/jobs/{id})."
  value       = module.function["jobs"].function_name
}

output "jobs_function_log_group" {
  description = "CloudWatch log group of the job routes' function."
  value       = module.function["jobs"].log_group_name
}

output "spend_table" {
  description = "DynamoDB table of spend per caller and period (invoke usage reads it)."
  value       = module.spend.table_name
}
