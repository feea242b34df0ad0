"""Idempotency-Key on PUT /code-generation: a retry that never pays twice.

The semantics of the IETF draft (draft-ietf-httpapi-idempotency-key-header) and of Stripe's
API. The same caller sending the same key with the same request within the window gets the
first answer again (status, headers, body: the same request id, code and job), marked with
`Idempotent-Replayed: true`, and the model is called once. The same key with another request
is a 422; while the first is still being answered, a 409 with Retry-After; a malformed key, a
400. Keys are scoped to the caller (codegen.http.events: the principal's unique id), so two callers
never share one.

Powertools' Idempotency utility keeps the records (DynamoDB, conditional writes): an
in-progress record expires with the function's remaining time, so a function that dies
mid-request does not block its retries for the whole window.

Which answers are kept: every answer once generation has started, except those a retry may
well turn around (429, 5xx): keeping a 504 would make the retry that a 504 asks for useless.
A request that fails validation never reaches this point, and keeps nothing.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from codegen.http.errors import HttpError

logger = logging.getLogger(__name__)
KEY_HEADER = "idempotency-key"  # lower-cased, as codegen.http.events keeps header names
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255  # the draft's and Stripe's limit
# Part of every record's id: a name of our own, so that moving the code keeps the records.
_KEY_PREFIX = "code-generation"
_ANSWER = "answer"  # the keyword Powertools reads the key and the request from

ProxyResult = dict[str, Any]


def idempotency_key(headers: dict[str, str]) -> str | None:
    """The request's Idempotency-Key, or None without one; 400 for a malformed one.

    The draft makes it a Structured Field string (`"..."`, RFC 8941); Stripe's clients send
    it bare. Both are taken: quoted, printable ASCII with `\\"` and `\\\\` escapes; bare,
    visible ASCII. 1 to 255 characters either way."""
    raw = headers.get(KEY_HEADER)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        key = _sf_string(value[1:-1])
    else:
        key = value if value and all(0x21 <= ord(c) <= 0x7E for c in value) else None
    if key is None or not 1 <= len(key) <= MAX_KEY_CHARS:
        raise HttpError(
            400,
            "InvalidIdempotencyKey",
            f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters, "
            'bare or as a quoted string ("..."); send a new random one (a UUID) per request',
            {"field": "Idempotency-Key"},
        )
    return key


def _sf_string(inner: str) -> str | None:
    """The content of an RFC 8941 string, or None if it is not one."""
    out, escaped = [], False
    for char in inner:
        if not 0x20 <= ord(char) <= 0x7E:
            return None
        if escaped:
            if char not in '"\\':
                return None
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return None
        else:
            out.append(char)
    return None if escaped else "".join(out)


class IdempotentAnswers:
    """Answers kept by (caller, key) for `window_seconds`."""

    def __init__(
        self, table: str, window_seconds: int, dynamodb: Any, retry_after_seconds: int
    ) -> None:
        self.retry_after_seconds = retry_after_seconds
        self.store = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)
        self.config = IdempotencyConfig(
            event_key_jmespath="[caller, key]",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=window_seconds,
            hash_function="sha256",
            response_hook=_mark_replayed,
        )

    def answer(
        self,
        key: str,
        caller: str,
        request: dict[str, Any],
        context: Any,
        produce: Callable[[], ProxyResult],
    ) -> ProxyResult:
        """The answer `produce()` gives, or the one kept for this caller and key. `request`
        is what must match for a retry to be the same request."""
        if callable(getattr(context, "get_remaining_time_in_millis", None)):
            self.config.register_lambda_context(context)
        produced: list[ProxyResult] = []

        def run(answer: dict[str, Any]) -> ProxyResult:
            result = produce()
            produced.append(result)
            if not _worth_keeping(result):
                raise _NotKept(result)  # Powertools removes the record: a retry runs again
            return result

        keyed = idempotent_function(
            run,
            data_keyword_argument=_ANSWER,
            persistence_store=self.store,
            config=self.config,
            key_prefix=_KEY_PREFIX,
        )
        try:
            return keyed(**{_ANSWER: {"caller": caller, "key": key, "request": request}})
        except _NotKept as not_kept:
            return not_kept.result
        except IdempotencyAlreadyInProgressError as exc:
            raise HttpError(
                409,
                "RequestInProgress",
                "a request with this Idempotency-Key is still being answered; retry it "
                "after Retry-After seconds to get its answer",
                headers={"Retry-After": str(self.retry_after_seconds)},
            ) from exc
        except IdempotencyValidationError as exc:
            raise HttpError(
                422,
                "IdempotencyKeyReused",
                "this Idempotency-Key was sent with another request (its body, Prefer or "
                "Accept differ); send a new key for a new request",
                {"field": "Idempotency-Key"},
            ) from exc
        except IdempotencyPersistenceLayerError as exc:
            if produced:
                # Answered, but the answer could not be kept: the caller still gets it.
                logger.error("idempotency record of key %s not kept: %s", _digest(key), exc)
                return produced[-1]
            logger.error("idempotency records unavailable: %s", exc)
            raise HttpError(
                503,
                "IdempotencyUnavailable",
                "keyed requests cannot be checked right now; retry with the same key shortly",
                headers={"Retry-After": str(self.retry_after_seconds)},
            ) from exc


class _NotKept(Exception):
    def __init__(self, result: ProxyResult) -> None:
        super().__init__(result.get("statusCode"))
        self.result = result


def _worth_keeping(result: ProxyResult) -> bool:
    status = int(result.get("statusCode", 500))
    return status < 500 and status != 429


def _mark_replayed(response: ProxyResult, _record: DataRecord) -> ProxyResult:
    headers = {**(response.get("headers") or {}), REPLAYED_HEADER: "true"}
    return {**response, "headers": headers}


def _digest(key: str) -> str:
    """A key as the log shows it: a caller's key is theirs, not the operator's to read."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]
