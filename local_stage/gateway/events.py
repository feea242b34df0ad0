"""Build the event API Gateway sends a Lambda proxy integration (payload 2.0 and 1.0)."""

import base64
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from local_stage.access.headers import fold_headers

# Bodies of these content types arrive as text; all others base64-encoded.
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/yaml",
)
_TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    raw_path: str  # as received, including the stage prefix
    raw_query: str
    headers: list[tuple[str, str]]  # in order, repeated names kept
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class RequestContext:
    account_id: str
    api_id: str
    stage: str
    route_key: str
    request_id: str
    domain_name: str
    path_parameters: dict[str, str]
    stage_variables: dict[str, str]
    iam: dict[str, Any] | None = None


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith(_TEXT_SUFFIXES)


def _body(request: IncomingRequest, headers: dict[str, str]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if is_text(headers.get("content-type")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True


def _time_fields(now: float) -> tuple[str, int]:
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(now * 1000)


def payload_v2(request: IncomingRequest, context: RequestContext, now: float | None = None):
    now = time.time() if now is None else now
    headers = fold_headers(request.headers)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    body, encoded = _body(request, headers)
    time_text, epoch = _time_fields(now)
    request_context: dict[str, Any] = {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": context.domain_name,
        "domainPrefix": context.domain_name.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": context.request_id,
        "routeKey": context.route_key,
        "stage": context.stage,
        "time": time_text,
        "timeEpoch": epoch,
    }
    if context.iam is not None:
        request_context["authorizer"] = {"iam": context.iam}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": context.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    if body is not None:
        event["body"] = body
    if context.path_parameters:
        event["pathParameters"] = context.path_parameters
    event["isBase64Encoded"] = encoded
    if context.stage_variables:
        event["stageVariables"] = context.stage_variables
    return event


def payload_v1(request: IncomingRequest, context: RequestContext, now: float | None = None):
    now = time.time() if now is None else now
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query_multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query_multi.setdefault(name, []).append(value)
    body, encoded = _body(request, fold_headers(request.headers))
    time_text, epoch = _time_fields(now)
    path = (
        "/" + request.raw_path.lstrip("/").split("/", 1)[-1]
        if context.stage != "$default"
        else request.raw_path
    )
    return {
        "version": "1.0",
        "resource": context.route_key.split(" ", 1)[-1],
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query_multi.items()} or None,
        "multiValueQueryStringParameters": query_multi or None,
        "requestContext": {
            "accountId": context.account_id,
            "apiId": context.api_id,
            "domainName": context.domain_name,
            "httpMethod": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "requestId": context.request_id,
            "requestTime": time_text,
            "requestTimeEpoch": epoch,
            "resourcePath": path,
            "stage": context.stage,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": fold_headers(request.headers).get("user-agent", ""),
                **({"accessKey": context.iam["accessKey"]} if context.iam else {}),
            },
        },
        "pathParameters": context.path_parameters or None,
        "stageVariables": context.stage_variables or None,
        "body": body,
        "isBase64Encoded": encoded,
    }
