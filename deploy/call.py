"""`invoke call`: send PUT /code-generation to a stage, SigV4-signed for AWS_IAM routes."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class CallResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def build_body(message: str, language: str, settings: dict[str, Any] | None = None) -> bytes:
    payload = {"message": message, "key": language, **(settings or {})}
    return json.dumps(payload).encode()


def signed_headers(
    url: str, body: bytes, region: str, credentials: Credentials, headers: dict[str, str]
) -> dict[str, str]:
    """Headers with a SigV4 signature for API Gateway (service name execute-api)."""
    request = AWSRequest(method="PUT", url=url, data=body, headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def call(
    url: str,
    body: bytes,
    *,
    region: str,
    credentials: Credentials | None,
    accept: str = "application/json",
    timeout: float = 60.0,
) -> CallResult:
    """PUT `body` to `url`; signed when `credentials` are given."""
    headers = {"Content-Type": "application/json", "Accept": accept}
    if credentials is not None:
        headers = signed_headers(url, body, region, credentials, headers)
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return CallResult(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return CallResult(error.code, dict(error.headers.items()), error.read())


def describe_failure(result: CallResult) -> str:
    try:
        payload = result.json()
        detail = payload.get("message", "") if isinstance(payload, dict) else str(payload)
    except ValueError:
        detail = result.body[:500].decode("utf-8", "replace")
    return f"HTTP {result.status}: {detail}"
