"""Bucket policies on the local emulator evaluate `aws:SecureTransport` as AWS does over TLS.

moto evaluates only StringEquals conditions and treats every other condition as met, so the
storage module's TLS-only statement (Deny s3:* when aws:SecureTransport is false) denies every
object request. On the local stage the emulator stands in for AWS's TLS endpoints and is
reached over loopback only, so it evaluates aws:SecureTransport as true: statements that
require insecure transport do not apply, and the condition is dropped from those that
require secure transport. Every other statement and condition reaches moto unchanged, so an
unconditional Deny still denies.
"""

import json
from typing import Any

_KEY = "aws:securetransport"


def as_seen_over_tls(policy: dict[str, Any]) -> dict[str, Any]:
    """`policy` with its aws:SecureTransport conditions evaluated for a TLS request."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for statement in statements:
        rewritten = _evaluated(statement)
        if rewritten is not None:
            kept.append(rewritten)
    return {**policy, "Statement": kept}


def _evaluated(statement: dict[str, Any]) -> dict[str, Any] | None:
    """The statement with the transport condition resolved; None when it cannot apply."""
    conditions = statement.get("Condition")
    if not isinstance(conditions, dict):
        return statement
    remaining: dict[str, Any] = {}
    for operator, tests in conditions.items():
        if operator.lower() != "bool" or not isinstance(tests, dict):
            remaining[operator] = tests
            continue
        other_tests = {}
        for key, expected in tests.items():
            if key.lower() != _KEY:
                other_tests[key] = expected
                continue
            values = expected if isinstance(expected, list) else [expected]
            if "true" not in [str(value).lower() for value in values]:
                return None  # requires insecure transport: never the case here
        if other_tests:
            remaining[operator] = other_tests
    result = {key: value for key, value in statement.items() if key != "Condition"}
    if remaining:
        result["Condition"] = remaining
    return result


def install() -> None:
    """Make moto's buckets evaluate their policies as seen over TLS (idempotent)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket.get_permission, "_as_seen_over_tls", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = as_seen_over_tls(json.loads(self.policy))
        if not policy["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    get_permission._as_seen_over_tls = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
