"""The real Terraform applied to moto's server: every resource, idempotence, a code-only
update, destroy. One deployed stack is shared by the tests of this module, in order: the
local stage with a key of its own (kms_key "create", prod's choice), so that every resource
is seen encrypted with it; the shared local stack of the end-to-end tests has none."""

import json
import shutil
from pathlib import Path

import boto3
import pytest

from deploy.emulator_target import emulator_environment
from deploy.paths import LAMBDA_DIR
from deploy.scratch import scratch_deployer

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.xdist_group("terraform-stack"),  # one stack, its tests in order
]

REGION = "us-east-1"


OVERRIDDEN = "123456789012:AIDAOVERRIDDEN"  # a caller with a budget of its own


@pytest.fixture(scope="module")
def stack(moto_url, terraform_env, tmp_path_factory):
    root = tmp_path_factory.mktemp("stack")
    source = root / "lambda"
    shutil.copytree(LAMBDA_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    deployer = scratch_deployer(
        root,
        moto_url,
        source,
        base_env=terraform_env,
        kms_key="create",
        spend_budget_overrides={OVERRIDDEN: {"tokens_per_day": 5000}},
    )
    report = deployer.deploy()
    return deployer, report, source


@pytest.fixture(scope="module")
def aws(moto_url):
    env = emulator_environment(moto_url, REGION)
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return lambda service: session.client(service, endpoint_url=moto_url)


def test_apply_creates_a_private_encrypted_versioned_tls_only_bucket(stack, aws):
    _, report, _ = stack
    assert report.changed
    s3 = aws("s3")
    bucket = report.outputs["bucket_name"]
    assert bucket == "codegen-local-123456789012-us-east-1"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": report.outputs["kms_key_arn"],
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    owner = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]
    assert owner["ObjectOwnership"] == "BucketOwnerEnforced"


def test_function_has_the_layer_runtime_limits_and_environment(stack, aws):
    deployer, report, _ = stack
    config = aws("lambda").get_function_configuration(FunctionName="codegen-local")
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "codegen.handler.lambda_handler"
    assert config["Architectures"] == ["x86_64"]
    assert config["Timeout"] == 28 and config["MemorySize"] == 512
    env = config["Environment"]["Variables"]
    assert env["MODEL_ID"] == "anthropic.claude-haiku-5-5"
    assert env["OUTPUT_BUCKET"] == report.outputs["bucket_name"]
    assert env["OUTPUT_PREFIX"] == "code-output/"
    assert env["BEDROCK_READ_TIMEOUT"] == "25"
    assert env["DEFAULT_TEMPERATURE"] == "0.1" and env["DEFAULT_TOP_P"] == ""
    assert env["DEFAULT_TOP_K"] == "250" and env["DEFAULT_MAX_TOKENS"] == "512"
    assert [layer["Arn"] for layer in config["Layers"]] == [report.outputs["layer_arn"]]
    manifest = json.loads((deployer.build_dir / "function.json").read_text())
    assert config["CodeSha256"] == manifest["base64_sha256"]


def test_role_is_least_privilege(stack, aws):
    iam = aws("iam")
    role = iam.get_role(RoleName="codegen-local-role")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    policy = iam.get_role_policy(
        RoleName="codegen-local-role", PolicyName="codegen-local-permissions"
    )
    document = policy["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {
        "WriteOwnLogs",
        "StoreGeneratedCode",
        "InvokeConfiguredModel",
        "UseStageKeyThroughItsServices",
    }
    assert _list(statements["StoreGeneratedCode"]["Action"]) == ["s3:PutObject"]
    # The API stores synchronous answers only, under their date: never a job's key.
    assert _list(statements["StoreGeneratedCode"]["Resource"]) == [
        "arn:aws:s3:::codegen-local-123456789012-us-east-1/code-output/????/??/??/*"
    ]
    assert _list(statements["InvokeConfiguredModel"]["Action"]) == ["bedrock:InvokeModel"]
    assert _list(statements["InvokeConfiguredModel"]["Resource"]) == [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-5-5"
    ]
    assert _list(statements["WriteOwnLogs"]["Resource"]) == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/codegen-local:*"
    ]
    assert not any(r == "*" for s in statements.values() for r in _list(s["Resource"]))


def role_statements(iam, role: str) -> dict[str, dict]:
    """Every statement of the role's inline policies, by Sid."""
    statements = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        statements.update({s["Sid"]: s for s in document["Statement"]})
    return statements


def test_the_job_roles_may_do_only_their_part(stack, aws):
    iam = aws("iam")
    queue = "arn:aws:sqs:us-east-1:123456789012:codegen-local-jobs"
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/codegen-local-jobs"
    api = role_statements(iam, "codegen-local-role")
    assert _list(api["QueueJobs"]["Action"]) == ["sqs:SendMessage"]
    assert _list(api["QueueJobs"]["Resource"]) == [queue]
    assert sorted(_list(api["RecordJobs"]["Action"])) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert _list(api["RecordJobs"]["Resource"]) == [table]
    assert sorted(_list(api["KeepAnswers"]["Action"])) == sorted(_list(api["RecordJobs"]["Action"]))
    assert _list(api["KeepAnswers"]["Resource"]) == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/codegen-local-idempotency"
    ]
    worker = role_statements(iam, "codegen-local-worker-role")
    assert set(worker) == {
        "WriteOwnLogs",
        "StoreGeneratedCode",
        "InvokeConfiguredModel",
        "RunJobs",
        "ReadJobsCode",
        "ConsumeOwnQueue",
        "UseStageKeyThroughItsServices",
        "CountSpend",
        "AnnounceBudgetAlerts",
        "EncryptBudgetAlerts",
    }
    # Every function counts its callers' spend in the spend table alone, and may announce a
    # caller near its budget on the alarm topic alone (with the topic's key, through SNS).
    jobs_role = role_statements(iam, "codegen-local-jobs-role")
    for role in (api, worker, jobs_role):
        assert sorted(_list(role["CountSpend"]["Action"])) == [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
        ]
        assert _list(role["CountSpend"]["Resource"]) == [
            "arn:aws:dynamodb:us-east-1:123456789012:table/codegen-local-spend"
        ]
        assert _list(role["AnnounceBudgetAlerts"]["Action"]) == ["sns:Publish"]
        assert _list(role["AnnounceBudgetAlerts"]["Resource"]) == [
            "arn:aws:sns:us-east-1:123456789012:codegen-local-alarms"
        ]
        condition = role["EncryptBudgetAlerts"]["Condition"]["StringEquals"]["kms:ViaService"]
        assert _list(condition) == ["sns.us-east-1.amazonaws.com"]
    # Both read back only jobs' code (the worker to adopt it, the API to answer it).
    jobs_code = "arn:aws:s3:::codegen-local-123456789012-us-east-1/code-output/jobs/*"
    for role in (api, worker):
        assert _list(role["ReadJobsCode"]["Action"]) == ["s3:GetObject"]
        assert _list(role["ReadJobsCode"]["Resource"]) == [jobs_code]
    # The worker stores jobs' code only.
    assert _list(worker["StoreGeneratedCode"]["Resource"]) == [jobs_code]
    assert sorted(_list(worker["RunJobs"]["Action"])) == [
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    ]
    assert sorted(_list(worker["ConsumeOwnQueue"]["Action"])) == [
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert _list(worker["ConsumeOwnQueue"]["Resource"]) == [queue]
    # The worker streams (ConverseStream); the API function does not.
    assert sorted(_list(worker["InvokeConfiguredModel"]["Action"])) == [
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
    ]
    assert _list(api["InvokeConfiguredModel"]["Action"]) == ["bedrock:InvokeModel"]
    everything = [*api.values(), *worker.values()]
    assert not any(r == "*" for s in everything for r in _list(s["Resource"]))


def test_jobs_have_a_queue_a_dead_letter_queue_a_table_and_a_bounded_worker(stack, aws):
    _, report, _ = stack
    sqs = aws("sqs")
    queue = sqs.get_queue_attributes(
        QueueUrl=report.outputs["jobs_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    dead = sqs.get_queue_attributes(
        QueueUrl=report.outputs["jobs_dead_letter_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead["QueueArn"],
        "maxReceiveCount": 5,  # AWS's advice for SQS event sources: at least 5
    }
    # 6 x the worker's 60 s (AWS's advice); messages kept longer than a job's deadline.
    assert queue["VisibilityTimeout"] == "360"
    assert int(queue["MessageRetentionPeriod"]) == 14 * 86400
    assert json.loads(dead["RedriveAllowPolicy"])["sourceQueueArns"] == [queue["QueueArn"]]
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName=report.outputs["jobs_table"])["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=report.outputs["jobs_table"])
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    worker = aws("lambda").get_function_configuration(FunctionName="codegen-local-worker")
    assert worker["Handler"] == "codegen.worker.lambda_handler" and worker["Timeout"] == 60
    variables = worker["Environment"]["Variables"]
    assert variables["JOB_MAX_RECEIVE_COUNT"] == "5"
    assert variables["JOB_DEADLINE_SECONDS"] == str(6 * 360)  # (5 + 1) deliveries' visibility
    # Reserved for as many as the mapping runs at once: nothing else can throttle it.
    concurrency = aws("lambda").get_function_concurrency(FunctionName="codegen-local-worker")
    assert concurrency["ReservedConcurrentExecutions"] == 4
    (mapping,) = aws("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert mapping["FunctionArn"] == worker["FunctionArn"]
    assert mapping["EventSourceArn"] == queue["QueueArn"] and mapping["BatchSize"] == 1
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 4}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_keyed_answers_have_a_table_of_their_own_with_a_ttl(stack, aws):
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName="codegen-local-idempotency")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    ttl = dynamodb.describe_time_to_live(TableName="codegen-local-idempotency")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiration"
    function = aws("lambda").get_function_configuration(FunctionName="codegen-local")
    variables = function["Environment"]["Variables"]
    assert variables["IDEMPOTENCY_TABLE"] == "codegen-local-idempotency"
    assert variables["IDEMPOTENCY_WINDOW_SECONDS"] == "86400"


def test_alarms_watch_the_stages_own_resources_and_notify_its_encrypted_topic(stack, aws):
    _, report, _ = stack
    outputs = report.outputs
    topic = outputs["alarm_topic_arn"]
    attributes = aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    key = aws("kms").describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"
    policy = json.loads(
        aws("kms").get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    )
    assert key["Arn"] == outputs["kms_key_arn"]  # the stage's key, not one of its own
    (publishes,) = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsPublish"]
    assert publishes["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(publishes["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]

    answer = aws("cloudwatch").describe_alarms(AlarmNames=outputs["alarm_names"])
    alarms = {alarm["AlarmName"]: alarm for alarm in answer["MetricAlarms"]}
    assert set(alarms) == set(outputs["alarm_names"]) and len(alarms) == 14
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
        assert alarm["TreatMissingData"] == "notBreaching"

    def dimensions(metric: dict) -> dict:
        return {d["Name"]: d["Value"] for d in metric["Dimensions"]}

    five_xx = alarms["codegen-local-api-5xx"]
    metrics = {q["Id"]: q for q in five_xx["Metrics"]}
    assert metrics["ratio"]["Expression"] == "IF(requests > 0, errors / requests, 0)"
    for query_id, name in (("errors", "5xx"), ("requests", "Count")):
        metric = metrics[query_id]["MetricStat"]["Metric"]
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/ApiGateway", name)
        assert dimensions(metric) == {"ApiId": outputs["api_id"], "Stage": "local"}
    duration = alarms["codegen-local-worker-duration-p99"]
    assert duration["ExtendedStatistic"] == "p99"
    assert duration["Threshold"] == 60 * 1000 * 0.8  # 80% of the local worker's 60 s
    assert dimensions(duration) == {"FunctionName": outputs["worker_function_name"]}
    dead = alarms["codegen-local-jobs-dead-letters"]
    assert dimensions(dead) == {"QueueName": outputs["jobs_dead_letter_queue_name"]}
    assert dead["Threshold"] == 0 and dead["ComparisonOperator"] == "GreaterThanThreshold"
    model = alarms["codegen-local-model-throttles"]
    assert (model["Namespace"], model["MetricName"]) == ("AWS/Bedrock", "InvocationThrottles")
    tokens = alarms["codegen-local-output-tokens-per-hour"]
    assert (tokens["Namespace"], tokens["MetricName"]) == ("CodeGen", "OutputTokens")
    assert dimensions(tokens) == {"Stage": "local"} and tokens["Period"] == 3600
    assert tokens["Threshold"] == 200000

    body = json.loads(
        aws("cloudwatch").get_dashboard(DashboardName=outputs["dashboard_name"])["DashboardBody"]
    )
    named = set()
    for widget in body["widgets"]:
        if widget["type"] == "alarm":
            assert set(widget["properties"]["alarms"]) == {a["AlarmArn"] for a in alarms.values()}
            continue
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], str):
                named |= {str(value) for value in row[2:] if isinstance(value, str)}
    queues = {
        url.rsplit("/", 1)[-1]
        for url in (outputs["jobs_queue_url"], outputs["jobs_dead_letter_queue_url"])
    }
    assert named == {"Stage", "local", "QueueName"} | queues


def test_the_stages_own_key_encrypts_its_data_logs_and_alarms(stack, aws):
    """kms_key "create": one rotated key for the bucket (above), queues, tables, log groups
    and topic (above); CloudWatch Logs may use it for the stage's groups only, the functions
    only through S3, SQS and DynamoDB."""
    _, report, _ = stack
    key_arn = report.outputs["kms_key_arn"]
    kms = aws("kms")
    key = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER" and key["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    logs = statements["CloudWatchLogsEncryptsTheStagesLogs"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    groups = sorted(_list(logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]))
    prefix = "arn:aws:logs:us-east-1:123456789012:log-group:"
    assert groups == [
        f"{prefix}/aws/apigateway/codegen-local/local",
        f"{prefix}/aws/lambda/codegen-local",
        f"{prefix}/aws/lambda/codegen-local-jobs",
        f"{prefix}/aws/lambda/codegen-local-worker",
    ]
    sqs = aws("sqs")
    for url in (report.outputs["jobs_queue_url"], report.outputs["jobs_dead_letter_queue_url"]):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["KmsMasterKeyId"] == key_arn, url
    dynamodb = aws("dynamodb")
    for table in (report.outputs["jobs_table"], "codegen-local-idempotency"):
        sse = dynamodb.describe_table(TableName=table)["Table"]["SSEDescription"]
        assert sse["SSEType"] == "KMS" and sse["KMSMasterKeyArn"] == key_arn, table
    for group in aws("logs").describe_log_groups()["logGroups"]:
        assert group.get("kmsKeyId") == key_arn, group["logGroupName"]
    iam = aws("iam")
    for role in ("codegen-local-role", "codegen-local-jobs-role", "codegen-local-worker-role"):
        use = role_statements(iam, role)["UseStageKeyThroughItsServices"]
        assert sorted(_list(use["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert _list(use["Resource"]) == [key_arn]
        assert sorted(_list(use["Condition"]["StringEquals"]["kms:ViaService"])) == [
            "dynamodb.us-east-1.amazonaws.com",
            "s3.us-east-1.amazonaws.com",
            "sqs.us-east-1.amazonaws.com",
        ]


def test_log_groups_have_retention(stack, aws):
    groups = aws("logs").describe_log_groups()["logGroups"]
    retention = {g["logGroupName"]: g.get("retentionInDays") for g in groups}
    assert retention == {
        "/aws/lambda/codegen-local": 1,
        "/aws/lambda/codegen-local-jobs": 1,
        "/aws/lambda/codegen-local-worker": 1,
        "/aws/apigateway/codegen-local/local": 1,
    }


def test_http_api_route_integration_stage_and_permission(stack, aws):
    _, report, _ = stack
    api = aws("apigatewayv2")
    api_id = report.outputs["api_id"]
    routes = {route["RouteKey"]: route for route in api.get_routes(ApiId=api_id)["Items"]}
    assert set(routes) == {
        "PUT /code-generation",
        "POST /code-generation/jobs",
        "GET /code-generation/jobs/{id}",
    }
    integrations = {
        i["IntegrationUri"].split(":function:")[-1].split("/")[0]: i
        for i in api.get_integrations(ApiId=api_id)["Items"]
    }
    for integration in integrations.values():
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        assert integration["TimeoutInMillis"] == 30000
    # The job routes have a function of their own: generations cannot take their capacity.
    serves = {"PUT /code-generation": "codegen-local"} | {
        key: "codegen-local-jobs" for key in routes if "/jobs" in key
    }
    for key, route in routes.items():
        assert route["AuthorizationType"] == "AWS_IAM"
        assert route["Target"] == f"integrations/{integrations[serves[key]]['IntegrationId']}"
    stage = api.get_stage(ApiId=api_id, StageName="local")
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 50
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    assert stage["AccessLogSettings"]["DestinationArn"].endswith(
        ":log-group:/aws/apigateway/codegen-local/local"
    )
    policy = json.loads(aws("lambda").get_policy(FunctionName="codegen-local")["Policy"])
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"apigateway.amazonaws.com"}
    sources = {s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]}
    api_arn = f"arn:aws:execute-api:us-east-1:123456789012:{api_id}"
    assert sources == {f"{api_arn}/local/PUT/code-generation"}
    policy = json.loads(aws("lambda").get_policy(FunctionName="codegen-local-jobs")["Policy"])
    sources = {s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]}
    assert sources == {
        f"{api_arn}/local/POST/code-generation/jobs",
        f"{api_arn}/local/GET/code-generation/jobs/*",
    }


def test_spend_is_counted_in_a_table_of_the_stage_with_its_overrides(stack, aws):
    """The spend table: per caller and period, expiring, encrypted with the stage's key, and
    holding the budget overrides the stage file names (written by Terraform)."""
    _, report, _ = stack
    dynamodb = aws("dynamodb")
    table = dynamodb.describe_table(TableName=report.outputs["spend_table"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["caller", "period"]
    assert table["SSEDescription"]["KMSMasterKeyArn"] == report.outputs["kms_key_arn"]
    ttl = dynamodb.describe_time_to_live(TableName=report.outputs["spend_table"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    item = dynamodb.get_item(
        TableName=report.outputs["spend_table"],
        Key={"caller": {"S": OVERRIDDEN}, "period": {"S": "budget"}},
    )["Item"]
    assert json.loads(item["limits"]["S"]) == {"tokens_per_day": 5000}


def test_the_job_routes_function_submits_and_reads_jobs_and_writes_no_code(stack, aws):
    function = aws("lambda").get_function_configuration(FunctionName="codegen-local-jobs")
    assert function["Handler"] == "codegen.handler.lambda_handler" and function["Timeout"] == 10
    api = role_statements(aws("iam"), "codegen-local-role")
    jobs = role_statements(aws("iam"), "codegen-local-jobs-role")
    assert "InvokeConfiguredModel" not in jobs and "StoreGeneratedCode" not in jobs
    for sid in ("QueueJobs", "RecordJobs", "CountCallersJobs", "ReadJobsCode", "KeepAnswers"):
        assert jobs[sid] == api[sid], sid
    assert _list(jobs["CountCallersJobs"]["Action"]) == ["dynamodb:Query"]
    assert _list(jobs["CountCallersJobs"]["Resource"]) == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/codegen-local-jobs/index/owner-created"
    ]
    table = aws("dynamodb").describe_table(TableName="codegen-local-jobs")["Table"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "owner-created"
    assert index["KeySchema"] == [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    variables = function["Environment"]["Variables"]
    assert variables["JOBS_OWNER_INDEX"] == "owner-created"
    assert variables["MAX_UNFINISHED_JOBS_PER_CALLER"] == "20"


def test_a_second_deploy_changes_nothing(stack):
    deployer, _, _ = stack
    report = deployer.deploy()
    assert report.changed is False
    assert "apply" not in report.timings


def test_touching_only_the_handler_reuploads_only_the_function(stack, aws):
    deployer, _, source = stack
    handler = source / "codegen" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a harmless change\n")
    layer_before = aws("lambda").list_layer_versions(LayerName="codegen-local-dependencies")
    assert deployer.plan() is True
    plan = deployer.runner.show_plan(deployer.workdir.plan_file)
    changes = {
        c["address"]: c["change"]["actions"]
        for c in plan["resource_changes"]
        if c["change"]["actions"] != ["no-op"]
    }
    # The three functions run the same zip: they take the new code, nothing else does.
    assert changes == {
        'module.function["api"].aws_lambda_function.this': ["update"],
        'module.function["jobs"].aws_lambda_function.this': ["update"],
        'module.function["worker"].aws_lambda_function.this': ["update"],
    }
    report = deployer.deploy()
    assert report.changed
    manifest = json.loads((deployer.build_dir / "function.json").read_text())
    config = aws("lambda").get_function_configuration(FunctionName="codegen-local")
    assert config["CodeSha256"] == manifest["base64_sha256"]
    layer_after = aws("lambda").list_layer_versions(LayerName="codegen-local-dependencies")
    assert layer_after["LayerVersions"] == layer_before["LayerVersions"]


def test_destroy_removes_everything(stack, aws):
    deployer, _, _ = stack
    deployer.destroy()
    assert aws("s3").list_buckets()["Buckets"] == []
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("apigatewayv2").get_apis()["Items"] == []
    assert aws("iam").list_roles()["Roles"] == []
    assert aws("logs").describe_log_groups()["logGroups"] == []
    assert aws("sqs").list_queues().get("QueueUrls", []) == []
    assert aws("dynamodb").list_tables()["TableNames"] == []
    assert aws("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    state = json.loads(Path(deployer.workdir.state_file).read_text())
    assert state["resources"] == []


def _list(value):
    return value if isinstance(value, list) else [value]
