"""The emulator answers the account questions a preflight asks, in the shapes botocore's
service models give AWS's answers, and can be told to answer otherwise (/_local/account)."""

import io
import json
import urllib.request
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from local_stage.contract import TOKEN_HEADER
from local_stage.emulator.account import CATALOGUE, DEFAULT_CONCURRENCY_LIMIT, PATH, quota_names
from local_stage.emulator.server import Emulator
from local_stage.faults import FaultRule

MODEL = CATALOGUE[0].model_id
TOKEN = "account-test-token"


@pytest.fixture(scope="module")
def emulator():
    server = Emulator(token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_account(emulator):
    control(emulator, "DELETE")
    emulator.faults.clear()
    yield


def client(emulator, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def control(emulator, method: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        emulator.url + PATH,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={TOKEN_HEADER: TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def held_to_botocores_model(api: Any, operation: str, answer: dict) -> None:
    """The parsed answer, less boto3's own metadata, is a valid instance of the operation's
    output shape (botocore's validator: types, enums, required members)."""
    shape = api.meta.service_model.operation_model(operation).output_shape
    body = {key: value for key, value in answer.items() if key != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()
    assert set(body) <= set(shape.members)


def test_bedrocks_catalogue_answers_in_bedrocks_shapes(emulator):
    bedrock = client(emulator, "bedrock")
    model = bedrock.get_foundation_model(modelIdentifier=MODEL)
    held_to_botocores_model(bedrock, "GetFoundationModel", model)
    details = model["modelDetails"]
    assert details["modelLifecycle"]["status"] == "ACTIVE"
    assert details["responseStreamingSupported"] and "TEXT" in details["outputModalities"]
    listed = bedrock.list_foundation_models(byOutputModality="TEXT")
    held_to_botocores_model(bedrock, "ListFoundationModels", listed)
    assert [m["modelId"] for m in listed["modelSummaries"]] == [MODEL]
    availability = bedrock.get_foundation_model_availability(modelId=MODEL)
    held_to_botocores_model(bedrock, "GetFoundationModelAvailability", availability)
    assert availability["authorizationStatus"] == "AUTHORIZED"
    profiles = bedrock.list_inference_profiles(typeEquals="SYSTEM_DEFINED")
    held_to_botocores_model(bedrock, "ListInferenceProfiles", profiles)
    ids = [p["inferenceProfileId"] for p in profiles["inferenceProfileSummaries"]]
    assert f"us.{MODEL}" in ids and f"global.{MODEL}" in ids
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=f"us.{MODEL}")
    held_to_botocores_model(bedrock, "GetInferenceProfile", profile)
    assert all(m["modelArn"].endswith(f"foundation-model/{MODEL}") for m in profile["models"])


def test_lambdas_account_settings_and_bedrocks_quotas_answer_in_their_shapes(emulator):
    lam = client(emulator, "lambda")
    settings = lam.get_account_settings()
    held_to_botocores_model(lam, "GetAccountSettings", settings)
    assert settings["AccountLimit"]["ConcurrentExecutions"] == DEFAULT_CONCURRENCY_LIMIT
    quotas = client(emulator, "service-quotas")
    listed = quotas.list_service_quotas(ServiceCode="bedrock")
    held_to_botocores_model(quotas, "ListServiceQuotas", listed)
    names = {q["QuotaName"] for q in listed["Quotas"]}
    assert names == set(quota_names(CATALOGUE[0]))
    one = quotas.get_service_quota(
        ServiceCode="bedrock", QuotaCode=listed["Quotas"][0]["QuotaCode"]
    )
    held_to_botocores_model(quotas, "GetServiceQuota", one)
    # Other services' quotas are still moto's.
    assert quotas.list_aws_default_service_quotas(ServiceCode="vpc")["Quotas"]


def test_the_account_can_be_told_to_answer_as_a_troubled_one(emulator):
    bedrock = client(emulator, "bedrock")
    end = datetime.now(UTC) + timedelta(days=20)
    control(
        emulator,
        "POST",
        {"model": MODEL, "lifecycle": "LEGACY", "end_of_life_time": end.isoformat()},
    )
    lifecycle = bedrock.get_foundation_model(modelIdentifier=MODEL)["modelDetails"][
        "modelLifecycle"
    ]
    assert lifecycle["status"] == "LEGACY"
    assert abs(lifecycle["endOfLifeTime"] - end) < timedelta(milliseconds=1)
    control(
        emulator,
        "POST",
        {"model": MODEL, "availability": {"authorizationStatus": "NOT_AUTHORIZED"}},
    )
    assert (
        bedrock.get_foundation_model_availability(modelId=MODEL)["authorizationStatus"]
        == "NOT_AUTHORIZED"
    )
    control(emulator, "POST", {"concurrency_limit": 10})
    assert client(emulator, "lambda").get_account_settings()["AccountLimit"] == {
        **client(emulator, "lambda").get_account_settings()["AccountLimit"],
        "ConcurrentExecutions": 10,
        "UnreservedConcurrentExecutions": 10,
    }
    name = next(iter(quota_names(CATALOGUE[0])))
    control(emulator, "POST", {"quota": name, "value": 0})
    quotas = client(emulator, "service-quotas").list_service_quotas(ServiceCode="bedrock")
    assert {q["QuotaName"]: q["Value"] for q in quotas["Quotas"]}[name] == 0
    control(emulator, "POST", {"model": MODEL, "offered": False})
    with pytest.raises(ClientError) as caught:
        bedrock.get_foundation_model(modelIdentifier=MODEL)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # DELETE: the stack's start again.
    control(emulator, "DELETE")
    assert (
        bedrock.get_foundation_model(modelIdentifier=MODEL)["modelDetails"]["modelLifecycle"][
            "status"
        ]
        == "ACTIVE"
    )


def test_a_bad_change_is_refused_with_its_reason(emulator):
    for body, words in (
        ({"concurrency_limit": 0}, "concurrency_limit"),
        ({"model": "anthropic.nope"}, "no model"),
        ({"model": MODEL, "lifecycle": "RETIRED"}, "ACTIVE or LEGACY"),
        ({"quota": "nothing of the kind", "value": 1}, "no Bedrock quota"),
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            control(emulator, "POST", body)
        assert caught.value.code == 400
        assert words in json.loads(caught.value.read())["error"]


def test_a_fault_rule_for_one_service_reads_as_that_services_error(emulator):
    emulator.faults.add(
        FaultRule.parse(
            {
                "path": "/",
                "method": "POST",
                "service": "servicequotas",
                "status": 403,
                "code": "AccessDeniedException",
            }
        )
    )
    with pytest.raises(ClientError) as caught:
        client(emulator, "service-quotas").list_service_quotas(ServiceCode="bedrock")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    # Another service's POST / goes through.
    assert client(emulator, "sts").get_caller_identity()["Account"]


def _function(lam, iam, name: str) -> None:
    role = iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )


def test_reservations_below_the_unreserved_minimum_are_refused_as_aws_refuses_them(emulator):
    lam, iam = client(emulator, "lambda"), client(emulator, "iam")
    _function(lam, iam, "reserving")
    control(emulator, "POST", {"concurrency_limit": 110})
    lam.put_function_concurrency(FunctionName="reserving", ReservedConcurrentExecutions=10)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    with pytest.raises(ClientError) as caught:
        lam.put_function_concurrency(FunctionName="reserving", ReservedConcurrentExecutions=11)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert "below its minimum value of [100]" in error["Message"]
    control(emulator, "POST", {"concurrency_limit": 10})
    with pytest.raises(ClientError) as caught:
        lam.put_function_concurrency(FunctionName="reserving", ReservedConcurrentExecutions=1)
    assert "minimum value of [10]" in caught.value.response["Error"]["Message"]
    lam.delete_function_concurrency(FunctionName="reserving")


def test_get_metric_statistics_reads_the_exact_dimension_set_as_cloudwatch_does(emulator):
    cloudwatch = client(emulator, "cloudwatch")
    now = datetime.now(UTC)
    stage = [{"Name": "Stage", "Value": "exact"}]
    cloudwatch.put_metric_data(
        Namespace="ExactTest",
        MetricData=[
            {"MetricName": "OutputTokens", "Dimensions": stage, "Value": 40, "Timestamp": now},
            {
                "MetricName": "OutputTokens",
                "Dimensions": [*stage, {"Name": "Language", "Value": "python"}],
                "Value": 40,
                "Timestamp": now,
            },
        ],
    )
    asked = dict(
        Namespace="ExactTest",
        MetricName="OutputTokens",
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=600,
        Statistics=["Sum"],
    )
    points = cloudwatch.get_metric_statistics(**asked, Dimensions=stage)["Datapoints"]
    assert [p["Sum"] for p in points] == [40]
    # No dimensions asked: only a metric without any, as CloudWatch answers.
    assert cloudwatch.get_metric_statistics(**asked)["Datapoints"] == []
