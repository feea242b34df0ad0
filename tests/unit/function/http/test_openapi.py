"""The published API contract (lambda/openapi.yaml) stays true: a valid OpenAPI 3 document
whose request schema is the function's validation, and whose response schemas fit every
answer the function gives."""

import json
import re

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from codegen.generation.languages import LANGUAGES
from codegen.generation.request import ALLOWED_FIELDS, parse_body
from codegen.http.errors import HttpError
from codegen.settings import load_settings
from deploy.paths import LAMBDA_DIR
from tests.unit.function.helpers import FakeContext, converse_reply, http_event

SPEC = yaml.safe_load((LAMBDA_DIR / "openapi.yaml").read_text())
OPERATION = SPEC["paths"]["/code-generation"]["put"]
REQUEST = SPEC["components"]["schemas"]["GenerationRequest"]
GOOD = {"message": "add two numbers", "key": "python"}


def schema_validator(schema: dict) -> OAS30Validator:
    """`schema` with the contract's components beside it, so its $refs resolve."""
    return OAS30Validator({**schema, "components": SPEC["components"]})


def assert_documented(result: dict) -> None:
    """The answer's status is documented, and its body fits that status's schema."""
    status = str(result["statusCode"])
    assert status in OPERATION["responses"], f"status {status} is not in the contract"
    content = OPERATION["responses"][status]["content"]
    media = result["headers"]["Content-Type"].split(";")[0]
    assert media in content, f"{status} answers {media}, which the contract does not list"
    if media == "application/json":
        body = json.loads(result["body"])
        schema_validator(content[media]["schema"]).validate(body)
    for name, header in OPERATION["responses"][status].get("headers", {}).items():
        if name in result["headers"] and "schema" in header:
            schema_validator(header["schema"]).validate(result["headers"][name])


def test_the_contract_is_a_valid_openapi_3_document():
    validate(SPEC)


def test_the_request_schema_names_exactly_the_fields_the_function_accepts(service):
    assert set(REQUEST["properties"]) == set(ALLOWED_FIELDS)
    assert REQUEST["additionalProperties"] is False
    result = service.handle(http_event({**GOOD, "extra": 1}), FakeContext())
    assert result["statusCode"] == 400 and json.loads(result["body"])["field"] == "extra"
    for field in REQUEST["required"]:
        missing = {name: value for name, value in GOOD.items() if name != field}
        result = service.handle(http_event(missing), FakeContext())
        assert result["statusCode"] == 400 and json.loads(result["body"])["field"] == field


@pytest.mark.parametrize("field", ["temperature", "top_p", "top_k", "max_tokens"])
def test_each_range_in_the_contract_is_the_one_the_function_enforces(service, stubber, field):
    spec = REQUEST["properties"][field]
    step = 1 if spec["type"] == "integer" else 0.01
    if field == "max_tokens":
        assert spec["maximum"] == load_settings().max_tokens_limit
    for value in (spec["minimum"], spec["maximum"]):  # inside: reaches the model
        stubber.add_response("converse", converse_reply("```python\nx = 1\n```"))
        result = service.handle(http_event({**GOOD, field: value}), FakeContext())
        assert result["statusCode"] == 200, (field, value, result["body"])
    for value in (spec["minimum"] - step, spec["maximum"] + step):  # outside: refused
        result = service.handle(http_event({**GOOD, field: value}), FakeContext())
        assert result["statusCode"] == 400 and json.loads(result["body"])["field"] == field


def test_the_message_length_in_the_contract_is_the_functions(service):
    limit = REQUEST["properties"]["message"]["maxLength"]
    assert limit == load_settings().max_message_chars
    result = service.handle(http_event({**GOOD, "message": "x" * (limit + 1)}), FakeContext())
    assert result["statusCode"] == 400 and json.loads(result["body"])["field"] == "message"


def refused_field(body: dict) -> str | None:
    """The field the function's validation refuses in `body`, or None when it takes it."""
    try:
        parse_body(json.dumps(body).encode(), load_settings())
    except HttpError as error:
        return error.details.get("field")
    return None


def test_the_languages_in_the_contract_are_the_functions_names_and_aliases(env):
    listed = REQUEST["properties"]["key"]["enum"]
    assert listed == [name for lang in LANGUAGES for name in (lang.name, *lang.aliases)]
    for key in listed:
        assert refused_field({**GOOD, "key": key}) is None, key
    assert refused_field({**GOOD, "key": "klingon"}) == "key"


def test_the_message_pattern_in_the_contract_is_the_functions_rule(env):
    pattern = re.compile(REQUEST["properties"]["message"]["pattern"])
    # Every character of the Basic Multilingual Plane up to CJK (surrogates cannot be sent
    # as JSON text), alone (blank or not) and inside other text (allowed or not).
    characters = [chr(c) for c in range(0x3100) if not 0xD800 <= c <= 0xDFFF] + ["\ufeff"]
    for char in characters:
        for message in (char, f"a{char}b", f"{char} {char}"):
            in_contract = pattern.fullmatch(message) is not None
            accepted = refused_field({**GOOD, "message": message}) != "message"
            assert in_contract == accepted, (hex(ord(char)), message)


# (case, event options, (Bedrock error, its status, how often it is asked), remaining ms)
ANSWERS = [
    ("code", {}, None, 25_000),
    ("code as text", {"headers": {"accept": "text/plain"}}, None, 25_000),
    ("not json", {"raw": "nope"}, None, 25_000),
    ("unknown language", {"body": {"message": "m", "key": "klingon"}}, None, 25_000),
    ("not a put", {"method": "GET"}, None, 25_000),
    ("too large", {"raw": "x" * (64 * 1024 + 1)}, None, 25_000),
    ("throttled", {}, ("ThrottlingException", 429, 2), 25_000),
    ("model timeout", {}, ("ModelTimeoutException", 408, 1), 25_000),
    ("access denied", {}, ("AccessDeniedException", 403, 1), 25_000),
    ("unavailable", {}, ("ServiceUnavailableException", 503, 2), 25_000),
    ("no time", {}, None, 500),
]


@pytest.mark.parametrize(("case", "options", "failure", "remaining_ms"), ANSWERS)
def test_every_kind_of_answer_fits_the_contract(
    service, stubber, monkeypatch, case, options, failure, remaining_ms
):
    monkeypatch.setattr("codegen.generation.bedrock.time.sleep", lambda seconds: None)
    options = dict(options)
    body = options.pop("body", GOOD)
    reaches_model = (
        "raw" not in options
        and options.get("method", "PUT") == "PUT"
        and body is GOOD
        and remaining_ms > 10_000
    )
    if failure is not None:
        code, status, times = failure
        for _ in range(times):  # a passing failure is retried once
            stubber.add_client_error("converse", code, "no", status)
    elif reaches_model:
        stubber.add_response("converse", converse_reply("```python\nx = 1\n```"))
    result = service.handle(http_event(body, **options), FakeContext(remaining_ms=remaining_ms))
    assert_documented(result)
