"""Store generated code in S3 under a key unique per request; never overwrite an object."""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from codegen.languages import Language


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


_ATTEMPTS = 2  # a clash or a passing failure gets one more try, time permitting


class StorageError(Exception):
    """The code could not be stored; the message is safe to show the caller."""


def object_key(prefix: str, now: datetime, request_id: str, language: Language) -> str:
    safe_id = "".join(c for c in request_id if c.isalnum() or c == "-")[:64] or uuid.uuid4().hex
    return f"{prefix}{now:%Y/%m/%d}/{safe_id}{language.extension}"


def store_code(
    client: Any,
    *,
    bucket: str,
    key: str,
    code: str,
    language: Language,
    model_id: str,
    prompt: str,
    request_id: str,
    time_left: Callable[[], float] = lambda: float("inf"),
    attempt_seconds: float = 0.0,
) -> StoredObject:
    """PutObject with If-None-Match: *, so an existing object is never replaced; on a clash
    (a reused request id) a random suffix is added once, and a passing failure (a timeout, a
    5xx) is tried once more. An attempt starts only while `time_left()` still holds
    `attempt_seconds` (the client's connect + read timeout): the function must never be cut
    off mid-store, so when time runs short the caller gets the code unstored instead."""
    metadata = {
        "language": language.name,
        "model-id": model_id[:256],
        "prompt-sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
        "request-id": request_id[:128],
    }
    candidate = key
    failure, last_error = "no attempt", None
    for _ in range(_ATTEMPTS):
        if time_left() < attempt_seconds:
            raise StorageError(f"not enough time left to store it ({failure})") from last_error
        try:
            client.put_object(
                Bucket=bucket,
                Key=candidate,
                Body=code.encode("utf-8"),
                ContentType=f"{language.content_type}; charset=utf-8",
                Metadata=metadata,
                IfNoneMatch="*",
            )
            return StoredObject(bucket, candidate)
        except ClientError as exc:
            code_name = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            last_error = exc
            if code_name in {"PreconditionFailed", "ConditionalRequestConflict"}:
                candidate, failure = _with_suffix(key, language), "key taken"
                continue
            if status >= 500 or code_name in {"SlowDown", "RequestTimeout"}:
                failure = f"S3 answered {code_name or status}"
                continue
            raise StorageError(f"S3 refused the object ({code_name or 'error'})") from exc
        except BotoCoreError as exc:
            last_error, failure = exc, f"S3 could not be reached ({type(exc).__name__})"
    raise StorageError(f"S3 did not take the object: {failure}") from last_error


def _with_suffix(key: str, language: Language) -> str:
    stem = key.removesuffix(language.extension)
    return f"{stem}-{uuid.uuid4().hex[:12]}{language.extension}"
