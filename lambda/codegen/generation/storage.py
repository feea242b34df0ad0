"""Store generated code in S3 under a key unique per request or job; never overwrite an object.

A synchronous answer goes under `<prefix>YYYY/MM/DD/<request-id><ext>`; a job's under
`<prefix>jobs/<job-id><ext>`, a key that follows from the job alone, so that every delivery of
its message looks in the same place: one that finds the object there adopts it instead of
generating it again (codegen.jobs.worker)."""

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from codegen.generation.languages import Language
from codegen.generation.syntax import UNCHECKED_VERDICT, SyntaxVerdict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


_ATTEMPTS = 2  # a clash or a passing failure gets one more try, time permitting
JOBS_FOLDER = (
    "jobs/"  # under the prefix; terraform/main.tf grants reading it (stored_jobs_code_arn)
)


@dataclass(frozen=True)
class Generated:
    """What the object's metadata says about how its code was made (for adopting it)."""

    model_id: str
    stop_reason: str
    input_tokens: int
    output_tokens: int
    syntax: SyntaxVerdict = UNCHECKED_VERDICT  # whether the code parses (codegen.generation.syntax)
    prompt_template_sha256: str = ""  # which stage prompt made it (codegen.generation.prompt)


class StorageError(Exception):
    """The code could not be stored; the message is safe to show the caller."""


def object_key(prefix: str, now: datetime, request_id: str, language: Language) -> str:
    safe_id = _key_part(request_id) or uuid.uuid4().hex
    return f"{prefix}{now:%Y/%m/%d}/{safe_id}{language.extension}"


def job_object_key(prefix: str, job_id: str, language: Language) -> str:
    return f"{prefix}{JOBS_FOLDER}{_key_part(job_id)}{language.extension}"


def _key_part(identifier: str) -> str:
    """An id as a key may hold it: letters, digits and hyphens, 64 at most."""
    return "".join(c for c in identifier if c.isalnum() or c == "-")[:64]


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
    generated: Generated | None = None,
    keep_existing: bool = False,
    time_left: Callable[[], float] = lambda: float("inf"),
    attempt_seconds: float = 0.0,
) -> StoredObject:
    """PutObject with If-None-Match: *, so an existing object is never replaced; on a clash
    (a reused request id) a random suffix is added once, unless `keep_existing` (a job's
    key: the object there is the job's answer, stored by another delivery, and is returned as
    it is); a passing failure (a timeout, a 5xx) is tried once more. An attempt starts only
    while `time_left()` still holds `attempt_seconds` (the client's connect + read timeout):
    the function must never be cut off mid-store, so when time runs short the caller gets the
    code unstored instead."""
    essential = {
        "language": language.name,
        "model-id": model_id[:256],
        "prompt-sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
        "request-id": request_id[:128],
    }
    extra: dict[str, str] = {}
    if generated is not None:
        extra = {
            "stop-reason": generated.stop_reason[:64],
            "input-tokens": str(generated.input_tokens),
            "output-tokens": str(generated.output_tokens),
            **_syntax_metadata(generated.syntax),
        }
        if generated.prompt_template_sha256:
            extra["system-prompt-sha256"] = generated.prompt_template_sha256
    metadata = {name: header_safe(value) for name, value in (essential | extra).items()}
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
                if keep_existing and code_name == "PreconditionFailed":
                    return StoredObject(bucket, candidate)
                if not keep_existing:
                    candidate = _with_suffix(key, language)
                failure = "key taken"
                continue
            if status >= 500 or code_name in {"SlowDown", "RequestTimeout"}:
                failure = f"S3 answered {code_name or status}"
                continue
            if code_name in _METADATA_REFUSED and len(metadata) > len(essential):
                # The code matters more than how it was made: store it with the essentials.
                metadata = {name: header_safe(value) for name, value in essential.items()}
                failure = f"S3 refused the metadata ({code_name})"
                continue
            raise StorageError(f"S3 refused the object ({code_name or 'error'})") from exc
        except BotoCoreError as exc:
            last_error, failure = exc, f"S3 could not be reached ({type(exc).__name__})"
    raise StorageError(f"S3 did not take the object: {failure}") from last_error


# S3's answers to metadata it will not keep (too large: 2 KB of user metadata at most).
_METADATA_REFUSED = {"MetadataTooLarge", "InvalidArgument"}
_MESSAGE_CHARS = 512


def _with_suffix(key: str, language: Language) -> str:
    stem = key.removesuffix(language.extension)
    return f"{stem}-{uuid.uuid4().hex[:12]}{language.extension}"


def find_stored(client: Any, bucket: str, key: str) -> tuple[StoredObject, Generated] | None:
    """The object at `key` and how it was made, or None when there is none (HeadObject:
    no body is read). Other S3 errors are raised."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        # Without s3:ListBucket (the functions have none) S3 answers a missing key with 403,
        # not 404. Taking it as "none" is safe: a job's store never replaces an object, and
        # one that finds its key taken keeps what is there (store_code's keep_existing).
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status in (403, 404) or exc.response.get("Error", {}).get("Code") in {"404", "403"}:
            return None
        raise
    metadata = head.get("Metadata") or {}

    def count(name: str) -> int:
        try:
            return int(metadata.get(name, "0"))
        except ValueError:
            return 0

    generated = Generated(
        model_id=metadata.get("model-id", ""),
        stop_reason=metadata.get("stop-reason", ""),
        input_tokens=count("input-tokens"),
        output_tokens=count("output-tokens"),
        syntax=SyntaxVerdict(
            metadata.get("syntax", UNCHECKED_VERDICT.status),
            count("syntax-line") or None,
            metadata.get("syntax-message"),
            metadata.get("syntax-repair"),
        ),
        prompt_template_sha256=metadata.get("system-prompt-sha256", ""),
    )
    return StoredObject(bucket, key), generated


def _syntax_metadata(verdict: SyntaxVerdict) -> dict[str, str]:
    """The verdict as object metadata (made header-safe by store_code)."""
    metadata = {"syntax": verdict.status}
    if verdict.line is not None:
        metadata["syntax-line"] = str(verdict.line)
    if verdict.message is not None:
        metadata["syntax-message"] = verdict.message[:_MESSAGE_CHARS]
    if verdict.repair is not None:
        metadata["syntax-repair"] = verdict.repair
    return metadata


def header_safe(value: str) -> str:
    """A metadata value S3 takes: one line of printable US-ASCII. Parsers' messages span
    lines (PyYAML's "...\n  in ..."), and an HTTP header must not: botocore refuses to send
    one, and the code would not be stored. Runs of white space become one space; other
    characters outside printable ASCII are escaped (\\n, \\u00e9)."""
    one_line = " ".join(value.split())
    return "".join(char if " " <= char <= "~" else _escaped(char) for char in one_line)


def _escaped(char: str) -> str:
    return (
        char.encode("ascii", "backslashreplace").decode()
        if ord(char) > 0x7F
        else (f"\\x{ord(char):02x}")
    )


def read_code(client: Any, stored: StoredObject) -> str | None:
    """The stored code, or None when the object is gone (expired by the bucket's lifecycle).
    Without s3:ListBucket (the functions have none) S3 answers a missing key with 403
    AccessDenied, not 404: that is read as gone too, as find_stored reads it, or a job whose
    object expired before its record would answer 503 for ever. Other S3 errors are raised."""
    try:
        answer = client.get_object(Bucket=stored.bucket, Key=stored.key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in {"NoSuchKey", "404"}:
            return None
        if code in {"AccessDenied", "403"} or status == 403:
            logger.warning("S3 answered 403 for %s: read as gone (no s3:ListBucket)", stored.uri)
            return None
        raise
    return answer["Body"].read().decode("utf-8", "replace")
