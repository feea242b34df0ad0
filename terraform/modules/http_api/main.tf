# API Gateway HTTP API: its routes, a Lambda proxy integration (payload 2.0) per function
# behind them, one throttled, access-logged stage that deploys automatically.

locals {
  # Each route, and the function (its key in var.functions) that serves it.
  route_functions = merge([
    for function, spec in var.functions : { for key in spec.route_keys : key => function }
  ]...)
  route_keys = sort(keys(local.route_functions))
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Code generation (${join(", ", local.route_keys)})"
}

resource "aws_apigatewayv2_integration" "lambda" {
  for_each = var.functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = each.value.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.route_functions

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.lambda[each.value].id}"
  authorization_type = var.authorization_type
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:the stage's customer-managed key encrypts the group where the stage's kms_key sets one (prod creates one); dev and local choose CloudWatch Logs' own encryption (their logs hold prompts when log_prompts is on)
  #checkov:skip=CKV_AWS_338:retention is a stage setting (log_retention_days): 14 days in dev, 90 in prod, chosen per stage
  name              = "/aws/apigateway/${var.name}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = var.stage_name
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    # Who called (the SigV4 principal and its account) and why a call failed, for afterwards.
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      accountId          = "$context.identity.accountId"
      caller             = "$context.identity.caller"
      userArn            = "$context.identity.userArn"
      requestTime        = "$context.requestTime"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      errorMessage       = "$context.error.message"
    })
  }


  depends_on = [aws_apigatewayv2_route.this]
}

# Only this API's stage, and each route's method and path, may invoke the route's function (a
# path parameter matches any one value).
resource "aws_lambda_permission" "invoke" {
  for_each = local.route_functions

  statement_id  = "AllowHttpApi-${aws_apigatewayv2_api.this.id}-${substr(sha1(each.key), 0, 8)}"
  action        = "lambda:InvokeFunction"
  function_name = var.functions[each.value].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${aws_apigatewayv2_stage.this.name}/${split(" ", each.key)[0]}${replace(split(" ", each.key)[1], "/\\{[^}/]+\\}/", "*")}"
}

# Stacks deployed when the API had one route keep it.
moved {
  from = aws_apigatewayv2_route.this
  to   = aws_apigatewayv2_route.this["PUT /code-generation"]
}

# Stacks deployed when the API had one function keep its integration.
moved {
  from = aws_apigatewayv2_integration.lambda
  to   = aws_apigatewayv2_integration.lambda["api"]
}
