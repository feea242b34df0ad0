import ast
import base64
import json

import pytest
from botocore.stub import ANY

from codegen.generation.languages import find_language
from codegen.generation.prompt import system_prompt
from tests.unit.function.conftest import stage_environment
from tests.unit.function.helpers import (
    BUCKET,
    MODEL,
    FakeContext,
    body_of,
    build_service,
    converse_reply,
    http_event,
    stored_keys,
)

PY_CODE = "def add(a, b):\n    return a + b\n"
# The stage's own model fields (model_request_fields), sent with every call.
STAGE_MODEL_FIELDS = json.loads(stage_environment()["MODEL_REQUEST_FIELDS"])


@pytest.mark.parametrize(
    ("key", "language", "extension", "content_type", "code"),
    [
        ("python", "python", ".py", "text/x-python", PY_CODE),
        ("JavaScript", "javascript", ".js", "text/javascript", "const add = (a, b) => a + b;\n"),
        ("ts", "typescript", ".ts", "application/typescript", "export const x: number = 1;\n"),
        (
            "java",
            "java",
            ".java",
            "text/x-java",
            "class A { int add(int a, int b) { return a+b; } }\n",
        ),
        (
            "golang",
            "go",
            ".go",
            "text/x-go",
            "package main\n\nfunc add(a, b int) int { return a + b }\n",
        ),
        ("rust", "rust", ".rs", "text/x-rust", "fn add(a: i32, b: i32) -> i32 { a + b }\n"),
        ("C++", "cpp", ".cpp", "text/x-c++", "int add(int a, int b) { return a + b; }\n"),
        ("c#", "csharp", ".cs", "text/x-csharp", "static int Add(int a, int b) => a + b;\n"),
        ("sql", "sql", ".sql", "application/sql", "SELECT 1 + 2;\n"),
        ("shell", "bash", ".sh", "text/x-shellscript", "echo $((1 + 2))\n"),
        ("ruby", "ruby", ".rb", "text/x-ruby", "def add(a, b) = a + b\n"),
        ("kotlin", "kotlin", ".kt", "text/x-kotlin", "fun add(a: Int, b: Int) = a + b\n"),
    ],
)
def test_generates_stores_and_returns_code(
    service, stubber, s3, key, language, extension, content_type, code
):
    answer = f"Here you go:\n```{language}\n{code}```\nEnjoy."
    stubber.add_response("converse", converse_reply(answer))
    result = service.handle(
        http_event({"message": "add two numbers", "key": key}), FakeContext("req-abc")
    )
    assert result["statusCode"] == 200, result["body"]
    body = body_of(result)
    expected_key = f"code-output/2026/11/24/req-abc{extension}"
    assert body["code"] == code
    assert body["language"] == language
    assert body["location"] == f"s3://{BUCKET}/{expected_key}"
    assert body["stored"] is True and body["model"] == MODEL
    assert body["usage"] == {"input_tokens": 12, "output_tokens": 34, "total_tokens": 46}
    assert body["request_id"] == "req-abc" and body["truncated"] is False
    assert result["headers"]["Content-Type"] == "application/json"
    stored = s3.get_object(Bucket=BUCKET, Key=expected_key)
    assert stored["Body"].read().decode() == code
    assert stored["ContentType"] == f"{content_type}; charset=utf-8"
    assert stored["Metadata"]["language"] == language
    assert stored["Metadata"]["request-id"] == "req-abc"
    assert len(stored["Metadata"]["prompt-sha256"]) == 64


def test_sends_system_prompt_message_and_default_sampling(service, stubber):
    expected = {
        "modelId": MODEL,
        "system": [
            {"text": system_prompt(find_language("python"), stage_environment()["SYSTEM_PROMPT"])}
        ],
        "messages": [{"role": "user", "content": [{"text": "add two numbers"}]}],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.1},
        "additionalModelRequestFields": {**STAGE_MODEL_FIELDS, "top_k": 250},
    }
    stubber.add_response("converse", converse_reply(f"```python\n{PY_CODE}```"), expected)
    result = service.handle(
        http_event({"message": " add two numbers ", "key": "py"}), FakeContext()
    )
    assert result["statusCode"] == 200
    assert ast.parse(body_of(result)["code"])


@pytest.mark.parametrize(
    ("settings", "inference", "extra"),
    [
        ({"temperature": 0.7}, {"maxTokens": 512, "temperature": 0.7}, {"top_k": 250}),
        ({"top_p": 0.9}, {"maxTokens": 512, "topP": 0.9}, {"top_k": 250}),
        (
            {"temperature": 0.2, "top_p": 0.5, "top_k": 10, "max_tokens": 100},
            {"maxTokens": 100, "temperature": 0.2, "topP": 0.5},
            {"top_k": 10},
        ),
        ({"max_tokens": 800, "top_k": 0}, {"maxTokens": 800, "temperature": 0.1}, {"top_k": 0}),
    ],
)
def test_sends_only_the_sampling_settings_that_are_set(
    service, stubber, settings, inference, extra
):
    expected = {
        "modelId": MODEL,
        "system": ANY,
        "messages": ANY,
        "inferenceConfig": inference,
        "additionalModelRequestFields": {**STAGE_MODEL_FIELDS, **extra},
    }
    stubber.add_response("converse", converse_reply("x = 1"), expected)
    body = {"message": "m", "key": "python", **settings}
    assert service.handle(http_event(body), FakeContext())["statusCode"] == 200


def test_stage_defaults_are_configurable_and_can_be_switched_off(monkeypatch, s3, bedrock):
    monkeypatch.setenv("DEFAULT_TEMPERATURE", "")
    monkeypatch.setenv("DEFAULT_TOP_K", "none")
    monkeypatch.setenv("DEFAULT_TOP_P", "0.2")
    monkeypatch.setenv("DEFAULT_MAX_TOKENS", "512")
    monkeypatch.setenv("MODEL_REQUEST_FIELDS", "{}")
    client, stubber = bedrock
    expected = {
        "modelId": MODEL,
        "system": ANY,
        "messages": ANY,
        "inferenceConfig": {"maxTokens": 512, "topP": 0.2},
    }
    stubber.add_response("converse", converse_reply("x = 1"), expected)
    service = build_service(lambda _seconds: client, s3)
    assert (
        service.handle(http_event({"message": "m", "key": "py"}), FakeContext())["statusCode"]
        == 200
    )


def test_the_default_model_is_asked_not_to_think(service, stubber):
    """The default Claude model thinks unless told not to, and a thinking model refuses the
    stage's temperature and top_k: the stage's defaults switch thinking off."""
    assert STAGE_MODEL_FIELDS == {"thinking": {"type": "disabled"}}
    expected = {
        "modelId": MODEL,
        "system": ANY,
        "messages": ANY,
        "inferenceConfig": ANY,
        "additionalModelRequestFields": {"thinking": {"type": "disabled"}, "top_k": 250},
    }
    stubber.add_response("converse", converse_reply("x = 1"), expected)
    assert (
        service.handle(http_event({"message": "m", "key": "py"}), FakeContext())["statusCode"]
        == 200
    )


def test_text_plain_clients_get_the_code_alone(service, stubber):
    stubber.add_response("converse", converse_reply(f"```python\n{PY_CODE}```"))
    event = http_event({"message": "m", "key": "python"}, headers={"accept": "text/plain"})
    result = service.handle(event, FakeContext("rid-9"))
    assert result["statusCode"] == 200
    assert result["body"] == PY_CODE
    assert result["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert result["headers"]["X-Code-Location"].endswith("/rid-9.py")
    assert result["headers"]["X-Request-Id"] == "rid-9"


@pytest.mark.parametrize("version", ["2.0", "1.0"])
@pytest.mark.parametrize("encoded", [False, True])
def test_payload_versions_and_base64_bodies(service, stubber, version, encoded):
    stubber.add_response("converse", converse_reply("print(1)"))
    event = http_event(
        {"message": "m ✓ ünïcode", "key": "python"}, version=version, base64_body=encoded
    )
    result = service.handle(event, FakeContext())
    assert result["statusCode"] == 200, result["body"]
    assert body_of(result)["code"] == "print(1)\n"


def test_two_requests_in_the_same_second_store_two_objects(service, stubber, s3):
    for _ in range(2):
        stubber.add_response("converse", converse_reply("x = 1"))
    first = service.handle(http_event({"message": "a", "key": "python"}), FakeContext("r-1"))
    second = service.handle(http_event({"message": "b", "key": "python"}), FakeContext("r-2"))
    assert body_of(first)["key"] != body_of(second)["key"]
    assert len(stored_keys(s3)) == 2


def test_a_reused_request_id_never_overwrites_an_object(service, stubber, s3):
    stubber.add_response("converse", converse_reply("first = 1"))
    stubber.add_response("converse", converse_reply("second = 2"))
    first = body_of(service.handle(http_event({"message": "a", "key": "py"}), FakeContext("same")))
    second = body_of(service.handle(http_event({"message": "b", "key": "py"}), FakeContext("same")))
    assert first["key"] != second["key"]
    assert s3.get_object(Bucket=BUCKET, Key=first["key"])["Body"].read() == b"first = 1\n"
    assert s3.get_object(Bucket=BUCKET, Key=second["key"])["Body"].read() == b"second = 2\n"


def test_storage_failure_still_returns_the_code(service, stubber, s3):
    s3.delete_bucket(Bucket=BUCKET)
    stubber.add_response("converse", converse_reply("x = 1"))
    result = service.handle(http_event({"message": "m", "key": "python"}), FakeContext())
    body = body_of(result)
    assert result["statusCode"] == 200
    assert body["code"] == "x = 1\n"
    assert body["stored"] is False and body["location"] is None
    assert (
        "could not be stored" in body["storage_error"] and "NoSuchBucket" in body["storage_error"]
    )
    assert "X-Storage-Error" in result["headers"]


def test_truncated_answers_are_flagged(service, stubber):
    stubber.add_response(
        "converse", converse_reply("```python\ndef f():\n    return [1,", "max_tokens")
    )
    body = body_of(service.handle(http_event({"message": "m", "key": "python"}), FakeContext()))
    assert body["truncated"] is True and body["stop_reason"] == "max_tokens"
    assert body["code"] == "def f():\n    return [1,\n"


def test_one_json_log_line_per_request_without_the_prompt(service, stubber, capsys):
    stubber.add_response("converse", converse_reply("x = 1"))
    service.handle(
        http_event({"message": "secret instructions", "key": "python"}), FakeContext("rid-log")
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    record = lines[0]
    assert record["request_id"] == "rid-log" and record["status"] == 200
    assert record["input_tokens"] == 12 and record["output_tokens"] == 34
    assert record["latency_ms"] >= 0 and record["language"] == "python"
    assert "secret instructions" not in json.dumps(record)


def test_non_put_methods_get_405(service):
    result = service.handle(http_event({"message": "m", "key": "py"}, method="GET"), FakeContext())
    assert result["statusCode"] == 405 and result["headers"]["Allow"] == "PUT"


def test_lambda_handler_builds_the_service_from_the_environment(env, s3, monkeypatch):
    from codegen import handler

    handler._service.cache_clear()
    monkeypatch.setenv("MODEL_ID", "")
    result = handler.lambda_handler(http_event({"message": "m", "key": "py"}), FakeContext())
    assert result["statusCode"] == 500 and "request id" in body_of(result)["message"]
    handler._service.cache_clear()
    monkeypatch.setenv("MODEL_ID", MODEL)
    service = handler._service()
    assert service.settings.model_id == MODEL and service.settings.bucket == BUCKET
    assert handler._service() is service  # built once per container
    handler._service.cache_clear()


def test_base64_body_of_bytes_roundtrip():
    raw = json.dumps({"message": "m", "key": "py"}).encode()
    event = http_event(raw=raw, base64_body=True)
    assert base64.b64decode(event["body"]) == raw
