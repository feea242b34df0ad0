"""Store generated code in S3 under a key unique per request; never overwrite an object."""

import hashlib
import uuid
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
) -> StoredObject:
    """PutObject with If-None-Match: *, so an existing object is never replaced; on a clash
    (a reused request id) a random suffix is added once."""
    metadata = {
        "language": language.name,
        "model-id": model_id[:256],
        "prompt-sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
        "request-id": request_id[:128],
    }
    for attempt in range(2):
        candidate = key if attempt == 0 else _with_suffix(key, language)
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
            if code_name in {"PreconditionFailed", "ConditionalRequestConflict"} and attempt == 0:
                continue
            raise StorageError(f"S3 refused the object ({code_name or 'error'})") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 could not be reached ({type(exc).__name__})") from exc
    raise StorageError("S3 kept reporting an existing object under a fresh key")


def _with_suffix(key: str, language: Language) -> str:
    stem = key.removesuffix(language.extension)
    return f"{stem}-{uuid.uuid4().hex[:12]}{language.extension}"
