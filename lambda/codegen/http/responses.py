"""Response shapes: API Gateway proxy results (JSON, or text/plain for the code alone)."""

import json
from typing import Any

from codegen.http.errors import HttpError

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


def proxy_result(
    status: int, body: str, content_type: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, **(headers or {})},
        "body": body,
        "isBase64Encoded": False,
    }


def json_result(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None):
    return proxy_result(status, json.dumps(payload, ensure_ascii=False), JSON_TYPE, headers)


def error_result(error: HttpError, request_id: str) -> dict[str, Any]:
    payload = {"error": error.code, "message": error.message, "request_id": request_id}
    payload.update(error.details)
    return json_result(error.status, payload, {"X-Request-Id": request_id, **error.headers})


def internal_error_result(request_id: str) -> dict[str, Any]:
    return error_result(
        HttpError(
            500,
            "InternalError",
            f"something went wrong on our side; quote request id {request_id} when reporting it",
        ),
        request_id,
    )
