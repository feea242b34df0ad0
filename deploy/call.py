"""The one HTTP client of the tooling, the tests and the benches (`call`, signed or not), and
`invoke call` on it: send PUT /code-generation to a stage, SigV4-signed for AWS_IAM routes;
with `--async`, submit a job and poll it until it has finished. Every URL comes from the
stage's outputs (an `Endpoint`: the target maps them to where the stage answers).

Every PUT carries an Idempotency-Key, so a 503 or 504 (an HTTP API answers 503 when its
integration times out, after 30 s at most, while the function runs on), a connection lost
mid-request, or a 409 (the first try still running) is retried with the same key: the retry
gets the first answer, and the model is paid once."""

import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urljoin

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from deploy.job_poll_display import JobPollDisplay
from layer_builder.errors import UserError

FINISHED = ("succeeded", "failed")
FIRST_POLL_S, _POLL_MAX_S = 0.5, 5.0
# Answers a keyed PUT is sent again for: the first try may still be running (409), or may
# have run on unseen behind the gateway's timeout (an HTTP API's 503, other proxies' 504);
# the function's own 503s say "retry shortly" too.
RETRIED_STATUSES = (409, 503, 504)
RETRY_FOR_S = 120.0  # a keyed PUT is retried for this long at most
_RETRY_MIN_S, _RETRY_MAX_S = 1.0, 10.0


@dataclass(frozen=True)
class Endpoint:
    """Where a stage answers and how to sign for it, from its Terraform outputs
    (`invoke_url`, `jobs_url`) through its target (deploy.target.DeployTarget.endpoint)."""

    generation_url: str  # PUT /code-generation
    jobs_url: str  # POST here submits a job; a job's own URL comes back in Location
    region: str
    credentials: Credentials | None  # None: the route takes unsigned requests


@dataclass(frozen=True)
class CallResult:
    status: int
    headers: Mapping[str, str]  # as received (an HTTPMessage keeps repeated ones: get_all)
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class CallError(UserError):
    """The call did not give code: unreachable, refused, or a job that ended failed."""


class JobTimeout(CallError):
    """The job did not finish within the time the caller allowed."""


def build_body(message: str, language: str, settings: dict[str, Any] | None = None) -> bytes:
    payload = {"message": message, "key": language, **(settings or {})}
    return json.dumps(payload).encode()


def signed_headers(
    url: str,
    body: bytes,
    region: str,
    credentials: Credentials,
    headers: dict[str, str],
    method: str = "PUT",
) -> dict[str, str]:
    """Headers with a SigV4 signature for API Gateway (service name execute-api)."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
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
    method: str = "PUT",
    headers: dict[str, str] | None = None,
) -> CallResult:
    """Send `body` to `url` (PUT unless told, JSON unless `headers` say otherwise); signed
    when `credentials` are given. Every answer is a CallResult, an HTTP error's too."""
    sent = {"Accept": accept, **(headers or {})}
    if method != "GET":
        sent.setdefault("Content-Type", "application/json")
    if credentials is not None:
        sent = signed_headers(url, body, region, credentials, sent, method)
    request = urllib.request.Request(
        url, data=body if method != "GET" else None, method=method, headers=sent
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return CallResult(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return CallResult(error.code, error.headers, error.read())


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def call_keyed(
    send: Callable[[dict[str, str]], CallResult],
    key: str,
    *,
    retry_for_s: float = RETRY_FOR_S,
    notice: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CallResult:
    """`send(headers)` with `Idempotency-Key: key`, sent again with the same key after a 409,
    503 or 504, or a connection lost once the request may have been sent, for up to `retry_for_s`.
    A refused connection is not retried: nothing reached the service."""
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        error: OSError | None = None
        try:
            result: CallResult | None = send({"Idempotency-Key": key})
        except OSError as exc:
            if not _maybe_sent(exc):
                raise
            result, error = None, exc
        if result is not None and result.status not in RETRIED_STATUSES:
            return result
        elapsed = clock() - started
        if elapsed >= retry_for_s:
            if result is None:
                assert error is not None
                raise error
            return result
        backoff = min(_RETRY_MIN_S * 2 ** (attempt - 1), _RETRY_MAX_S)
        hinted = _retry_after(result.header("Retry-After")) if result is not None else None
        pause = min(max(hinted or 0.0, backoff), _RETRY_MAX_S, max(retry_for_s - elapsed, 0.1))
        what = f"HTTP {result.status}" if result is not None else f"connection lost ({error})"
        notice(f"{what}; sending it again with the same Idempotency-Key in {pause:.0f} s")
        sleep(pause)


def _maybe_sent(exc: OSError) -> bool:
    """False for an error that means the request never left (no such host, refused)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return not isinstance(reason, ConnectionRefusedError | socket.gaierror)


def submit_job(
    endpoint: Endpoint, body: bytes, *, headers: dict[str, str] | None = None
) -> tuple[CallResult, str | None]:
    """POST the request to the stage's job route (the job routes' own function and
    capacity): the answer, and the job's URL when it was accepted (202)."""
    result = call(
        endpoint.jobs_url,
        body,
        region=endpoint.region,
        credentials=endpoint.credentials,
        method="POST",
        headers=headers,
    )
    location = result.header("Location") if result.status == 202 else None
    return result, urljoin(endpoint.jobs_url, location) if location else None


def wait_for_job(
    job_url: str,
    *,
    region: str,
    credentials: Credentials | None,
    limit_s: float,
    progress: Callable[[dict[str, Any], float], None] = lambda job, elapsed: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CallResult:
    """GET the job until it has finished (the last answer), calling `progress(job, elapsed)`
    on each answer; JobTimeout after `limit_s`. A 429 or 503 is waited out like an unfinished
    job; any other answer that is not 200 is returned as it is."""
    started = clock()
    delay = FIRST_POLL_S
    while True:
        result = call(job_url, b"", region=region, credentials=credentials, method="GET")
        elapsed = clock() - started
        if result.status == 200:
            job = result.json()
            progress(job, elapsed)
            if job.get("status") in FINISHED:
                return result
        elif result.status not in (429, 503):
            return result
        if elapsed >= limit_s:
            raise JobTimeout(
                f"the job did not finish within {limit_s:.0f} s; it goes on: look again with "
                f"a longer --wait, or GET {job_url}"
            )
        hinted = _retry_after(result.header("Retry-After"))
        pause = min(max(delay, hinted or 0.0), _POLL_MAX_S, max(limit_s - elapsed, 0.1))
        sleep(pause)
        delay = min(delay * 1.5, _POLL_MAX_S)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def generate(
    endpoint: Endpoint,
    body: bytes,
    *,
    asynchronous: bool = False,
    wait_s: float = 900.0,
    progress: TextIO | None = None,
    failed_job_is_an_answer: bool = False,
    idempotency_key: str | None = None,
    retry_for_s: float = RETRY_FOR_S,
) -> dict[str, Any]:
    """`invoke call`: the answer's JSON, sent now or (`asynchronous`) as a job polled for at
    most `wait_s`, its progress written to `progress`. The PUT carries `idempotency_key` (a
    new one unless given) and is retried with it (call_keyed). CallError when there is no
    answer with code: the endpoint unreachable, a refusal, or a job that ended failed (unless
    `failed_job_is_an_answer`, for a caller that shows the whole JSON)."""
    key = idempotency_key or new_idempotency_key()

    def notice(line: str) -> None:
        if progress is not None:
            print(line, file=progress)

    def put(headers: dict[str, str]) -> CallResult:
        return call(
            endpoint.generation_url,
            body,
            region=endpoint.region,
            credentials=endpoint.credentials,
            headers=headers,
        )

    try:
        if not asynchronous:
            result = call_keyed(put, key, retry_for_s=retry_for_s, notice=notice)
        else:
            result = _run_job(endpoint, body, wait_s, progress, key, retry_for_s)
    except OSError as exc:
        raise CallError(f"cannot reach the endpoint {endpoint.generation_url}: {exc}") from None
    if result.status != 200:
        raise CallError(describe_failure(result))
    payload = result.json()
    if asynchronous and payload.get("status") != "succeeded" and not failed_job_is_an_answer:
        raise CallError(describe_job_failure(payload))
    return payload


def _run_job(
    endpoint: Endpoint,
    body: bytes,
    wait_s: float,
    stream: TextIO | None,
    key: str,
    retry_for_s: float,
) -> CallResult:
    def submit(headers: dict[str, str]) -> CallResult:
        return submit_job(endpoint, body, headers=headers)[0]

    def notice(line: str) -> None:
        if stream is not None:
            print(line, file=stream)

    submitted = call_keyed(submit, key, retry_for_s=retry_for_s, notice=notice)
    location = submitted.header("Location") if submitted.status == 202 else None
    if location is None:
        return submitted
    job_url = urljoin(endpoint.jobs_url, location)
    shown = JobPollDisplay(job_url, stream) if stream is not None else None
    try:
        return wait_for_job(
            job_url,
            region=endpoint.region,
            credentials=endpoint.credentials,
            limit_s=wait_s,
            progress=shown.show if shown is not None else lambda job, elapsed: None,
        )
    finally:
        if shown is not None:
            shown.close()


def describe_failure(result: CallResult) -> str:
    try:
        payload = result.json()
        detail = payload.get("message", "") if isinstance(payload, dict) else str(payload)
    except ValueError:
        detail = result.body[:500].decode("utf-8", "replace")
    return f"HTTP {result.status}: {detail}"


def describe_job_failure(job: dict[str, Any]) -> str:
    error = job.get("error") or {}
    return (
        f"job {job.get('job_id')} failed: {error.get('code', 'unknown error')} "
        f"(as HTTP {error.get('status', '?')}): {error.get('message', '')}"
    )
