"""Read what the function needs from an API Gateway proxy event (payload 2.0 or 1.0)."""

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from codegen.http.errors import HttpError, bad_request

# Who calls a route that has no authorization: every such caller is the same one.
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    path_parameters: dict[str, str] = field(default_factory=dict)
    stage: str = "$default"
    caller: str = ANONYMOUS  # the verified IAM principal, as ACCOUNT:UNIQUE-ID (see _caller)
    route_key: str = ""  # the route API Gateway matched, e.g. "PUT /code-generation"
    caller_arn: str = ""  # the principal's ARN as API Gateway reports it (for people to read)

    @property
    def stage_path(self) -> str:
        """The path prefix of the API stage ("" for the $default stage)."""
        return "" if self.stage in ("", "$default") else f"/{self.stage}"


def parse_event(event: Any) -> HttpRequest:
    """Method, path, headers and the raw body bytes of a payload 2.0 or 1.0 event."""
    if not isinstance(event, dict):
        raise bad_request("the event is not an API Gateway proxy event (expected an object)")
    if event.get("version") == "2.0":
        http = (event.get("requestContext") or {}).get("http") or {}
        method, path = http.get("method", ""), event.get("rawPath", "")
        route_key = str(event.get("routeKey") or "")
    else:
        method, path = event.get("httpMethod", ""), event.get("path", "")
        route_key = f"{method} {event.get('resource') or path}"
    if not method:
        raise bad_request("the event is not an API Gateway proxy event (no HTTP method)")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    context = event.get("requestContext") or {}
    parameters = event.get("pathParameters") or {}
    return HttpRequest(
        method.upper(),
        path,
        headers,
        _body_bytes(event),
        {str(k): str(v) for k, v in parameters.items()} if isinstance(parameters, dict) else {},
        str(context.get("stage") or "$default"),
        _caller(context),
        route_key,
        _caller_arn(context),
    )


def _caller(context: dict[str, Any]) -> str:
    """Who calls, as a stable identity: `ACCOUNT:ID`, where ID is the unique id of the IAM
    principal API Gateway verified for an AWS_IAM route (`authorizer.iam` in payload 2.0,
    `identity` in 1.0): AIDA... for a user, AROA... for a role, the account for its root.

    Not the ARN: an assumed role's ARN ends in a session name that whoever calls AssumeRole
    picks, and a user deleted and recreated under the same name has the same ARN but a new
    id. So every session of a role is one caller (jobs and idempotency keys are per role),
    and a recreated user or role is a new one. ANONYMOUS on a route without auth.

    A federated user (GetFederationToken) has no unique id of its own: IAM's `aws:userid` is
    `ACCOUNT:NAME`, whose first part is the account, as root's is. By that id every federated
    user and root would be one caller; each is `ACCOUNT:federated-user/NAME` instead, from its
    ARN (`arn:aws:sts::ACCOUNT:federated-user/NAME`): the name is the one the issuing IAM user
    chose, so federated users are told apart as well as their issuer tells them apart."""
    iam = (context.get("authorizer") or {}).get("iam") or context.get("identity") or {}
    if not isinstance(iam, dict) or not any(iam.get(k) for k in ("userId", "user", "userArn")):
        return ANONYMOUS
    account = str(iam.get("accountId") or "")
    federated = _FEDERATED.fullmatch(str(iam.get("userArn") or ""))
    if federated and federated["account"] == account:
        return f"{account}:federated-user/{federated['name']}"
    unique_id = str(iam.get("userId") or iam.get("user") or "").split(":", 1)[0]
    if not account or not unique_id:
        # API Gateway always sends both for an IAM caller: refuse rather than guess who it is.
        raise HttpError(403, "UnknownCaller", "the caller's IAM identity is incomplete")
    return f"{account}:{unique_id}"


def _caller_arn(context: dict[str, Any]) -> str:
    """The caller's ARN (a role session's names the session): what a report shows beside its
    id, and how a budget by role finds every session of the role."""
    iam = (context.get("authorizer") or {}).get("iam") or context.get("identity") or {}
    return str(iam.get("userArn") or "") if isinstance(iam, dict) else ""


_FEDERATED = re.compile(
    r"arn:aws[a-z-]*:sts::(?P<account>\d{12}):federated-user/(?P<name>[\w+=,.@-]+)"
)


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise bad_request("the event body must be a string")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("the body is marked base64-encoded but is not valid base64") from exc
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise bad_request("the body is not valid UTF-8 text") from exc


def prefers_async(headers: dict[str, str]) -> bool:
    """True when a `Prefer` header (RFC 7240) asks for `respond-async`."""
    for preference in headers.get("prefer", "").split(","):
        name = preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
        if name == "respond-async":
            return True
    return False


def prefers_text(headers: dict[str, str]) -> bool:
    """True when the Accept header ranks text/plain above application/json."""
    ranks: dict[str, float] = {}
    for part in headers.get("accept", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = max(quality, ranks.get(media.lower(), 0.0))
    text = ranks.get("text/plain", 0.0)
    json_rank = max(ranks.get("application/json", 0.0), ranks.get("*/*", 0.0) * 0.99)
    return text > 0 and text >= json_rank
