"""The gateway's access log, as an HTTP API stage writes it: one event per request in the
stage's access-log group, in the stage's own format (its `$context.*` variables filled in;
a value the request does not have is `-`, as API Gateway writes it)."""

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from local_stage.control_plane import Stage

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


@dataclass
class AccessRecord:
    """What one request left for the access log; filled in as the request goes through."""

    request_id: str
    method: str
    path: str
    protocol: str
    source_ip: str
    started_s: float = field(default_factory=time.time)
    route_key: str = "-"
    stage: Stage | None = None
    iam: dict[str, Any] | None = None
    status: int = 0
    response_length: int = 0
    integration_status: int | None = None
    integration_latency_ms: int | None = None
    integration_error: str | None = None
    error_message: str | None = None

    def context(self) -> dict[str, Any]:
        """The `$context` variables this request has, by name."""
        iam = self.iam or {}
        latency_ms = int((time.time() - self.started_s) * 1000)
        values: dict[str, Any] = {
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "httpMethod": self.method,
            "path": self.path,
            "protocol": self.protocol,
            "identity.sourceIp": self.source_ip,
            "identity.accountId": iam.get("accountId"),
            "identity.caller": iam.get("callerId"),
            "identity.user": iam.get("userId"),
            "identity.userArn": iam.get("userArn"),
            "identity.accessKey": iam.get("accessKey"),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.started_s)),
            "requestTimeEpoch": int(self.started_s * 1000),
            "routeKey": self.route_key,
            "stage": self.stage.name if self.stage else None,
            "status": self.status,
            "responseLength": self.response_length,
            "responseLatency": latency_ms,
            "integrationStatus": self.integration_status,
            "integrationLatency": self.integration_latency_ms,
            "integrationErrorMessage": self.integration_error,
            "error.message": self.error_message,
        }
        return {name: value for name, value in values.items() if value is not None}


def render(template: str, context: dict[str, Any]) -> str:
    """The template with each `$context.NAME` replaced by its value, or `-`. A value is
    escaped as within a JSON string: the stage's formats are JSON (jsonencode)."""

    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return "-" if found is None else json.dumps(str(found))[1:-1]

    return _VARIABLE.sub(value, template)
