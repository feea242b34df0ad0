import base64
import json

import pytest

from local_stage.gateway.events import (
    IncomingRequest,
    RequestContext,
    is_text,
    payload_v1,
    payload_v2,
)
from local_stage.gateway.results import map_result

CONTEXT = RequestContext(
    "123456789012",
    "abc123",
    "dev",
    "PUT /code-generation",
    "req-1",
    "abc123.execute-api.localhost",
    {},
    {},
)


def _request(**overrides) -> IncomingRequest:
    values = dict(
        method="PUT",
        raw_path="/dev/code-generation",
        raw_query="a=1&a=2&b=",
        headers=[
            ("Content-Type", "application/json"),
            ("Cookie", "x=1; y=2"),
            ("X-Multi", "a"),
            ("x-multi", "b"),
            ("User-Agent", "ua"),
        ],
        body=b'{"message": "m"}',
        source_ip="127.0.0.1",
    )
    values.update(overrides)
    return IncomingRequest(**values)


def test_payload_2_0_has_the_documented_shape():
    event = payload_v2(_request(), CONTEXT, now=1_700_000_000.123)
    assert list(event) == [
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "headers",
        "queryStringParameters",
        "requestContext",
        "body",
        "isBase64Encoded",
    ]
    assert event["headers"] == {
        "content-type": "application/json",
        "x-multi": "a,b",
        "user-agent": "ua",
    }
    assert event["cookies"] == ["x=1", "y=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    context = event["requestContext"]
    assert context["http"] == {
        "method": "PUT",
        "path": "/dev/code-generation",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "ua",
    }
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"
    assert context["timeEpoch"] == 1_700_000_000_123
    assert context["domainPrefix"] == "abc123"
    assert event["body"] == '{"message": "m"}' and event["isBase64Encoded"] is False


def test_empty_parts_are_left_out_and_binary_bodies_are_base64():
    request = _request(raw_query="", headers=[("Content-Type", "image/png")], body=b"\x89PNG\0")
    event = payload_v2(request, CONTEXT)
    assert "cookies" not in event and "queryStringParameters" not in event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG\0"
    assert "body" not in payload_v2(_request(body=b""), CONTEXT)


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("text/plain; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/octet-stream", False),
        (None, False),
    ],
)
def test_text_content_types(content_type, text):
    assert is_text(content_type) is text


def test_payload_1_0_keeps_multi_value_headers_and_query():
    event = payload_v1(_request(), CONTEXT)
    assert event["version"] == "1.0" and event["httpMethod"] == "PUT"
    assert event["multiValueHeaders"]["X-Multi"] == ["a"]
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["resource"] == "/code-generation"


def test_result_with_status_code_maps_headers_cookies_and_base64_body():
    result = {
        "statusCode": 201,
        "headers": {"x-a": "1", "x-bool": True},
        "cookies": ["c=1"],
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\0\1").decode(),
    }
    response = map_result(json.dumps(result).encode(), "2.0")
    assert response.status == 201 and response.body == b"\0\1"
    assert ("x-a", "1") in response.headers and ("x-bool", "true") in response.headers
    assert ("Set-Cookie", "c=1") in response.headers


@pytest.mark.parametrize("payload", [b'{"hello": "world"}', b'"just text"', b"42", b"[1,2]"])
def test_result_without_status_code_is_a_200_json_body(payload):
    response = map_result(payload, "2.0")
    assert response.status == 200 and response.body == payload
    assert ("Content-Type", "application/json") in response.headers


@pytest.mark.parametrize(
    ("payload", "version"),
    [
        (b"not json", "2.0"),
        (b'{"statusCode": "200"}', "2.0"),
        (b'{"statusCode": 99}', "2.0"),
        (b'{"statusCode": 200, "isBase64Encoded": true, "body": "!!"}', "2.0"),
        (b'{"hello": 1}', "1.0"),
    ],
)
def test_malformed_results_are_500(payload, version):
    response = map_result(payload, version)
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal Server Error"}
