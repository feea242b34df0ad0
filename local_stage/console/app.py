"""The console's routes on the stage server (under /_local/console/, behind the token guard):
the page and its files, and the JSON it reads.

    GET  /_local/console/                       the page
    GET  /_local/console/api/health             each local process, the model and its speed
    GET  /_local/console/api/requests?after=N   the feed after row N (waits up to 20 s for one)
    GET  /_local/console/api/requests/{id}      a request: bodies, log lines, stored object
    GET  /_local/console/api/jobs               jobs, and the dead-letter queue's messages
    POST /_local/console/api/dead-letters/{id}/send-back
    GET  /_local/console/api/objects?prefix=P   one level of the bucket
    GET  /_local/console/api/object?key=K       an object, highlighted; &download=1 its bytes
    POST /_local/console/api/try                a real signed request through the gateway
    GET  /_local/console/api/jobs/{id}          a job, read through the gateway (signed)
"""

import asyncio
import json
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from botocore.credentials import Credentials

from deploy.call import call as send
from local_stage.access.guard import is_json
from local_stage.console.feed import RequestFeed
from local_stage.console.highlight import as_html, stylesheet
from local_stage.console.resources import ConsoleError, Stage, StageResources
from local_stage.contract import (
    CONSOLE_PATH,
    health_request,
    running_model,
)
from local_stage.control_plane import ControlPlane
from local_stage.event_sources.sqs import EventSourcePollers
from local_stage.runtime.service import RuntimeService

STATIC = Path(__file__).with_name("static")
API = CONSOLE_PATH + "api/"
LONG_POLL_S = 20.0
MAX_TRY_MESSAGE = 4000
# The page's own files only, nothing inline, never framed, and the token in its URL never
# sent on as a referrer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_FILES = {
    "": ("index.html", "text/html"),
    "console.js": ("console.js", "text/javascript"),
    "console.css": ("console.css", "text/css"),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Console:
    def __init__(
        self,
        control: ControlPlane,
        feed: RequestFeed,
        runtime: RuntimeService,
        pollers: EventSourcePollers,
        *,
        state_dir: Path,
        emulator_url: str,
        token: str,
        credentials: tuple[str, str],
    ) -> None:
        self.resources = StageResources(control)
        self._credentials = Credentials(*credentials)  # the stack's: "try it" signs with them
        self._senders = ThreadPoolExecutor(max_workers=4, thread_name_prefix="console-try")
        self.feed = feed
        self.runtime = runtime
        self.pollers = pollers
        self.state_dir = state_dir
        self.emulator_url = emulator_url
        self.region = control.region
        self._token = token
        self._started = time.time()

    def add_routes(self, app: web.Application) -> None:
        """Before the gateway's catch-all route."""
        for name in _FILES:
            app.router.add_get(CONSOLE_PATH + name, self._file)
        app.router.add_get(CONSOLE_PATH + "highlight.css", self._highlight_css)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "health", self._health),
            ("GET", "requests", self._requests),
            ("GET", "requests/{request_id}", self._request),
            ("GET", "jobs", self._jobs),
            ("GET", "spend", self._spend),
            ("GET", "jobs/{job_id}", self._job),
            ("POST", "dead-letters/{message_id}/send-back", self._send_back),
            ("GET", "objects", self._objects),
            ("GET", "object", self._object),
            ("POST", "try", self._try),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API + path, _answering_errors(handler))

    # -- the page --------------------------------------------------------------------------
    async def _file(self, request: web.Request) -> web.Response:
        name, content_type = _FILES[request.path.removeprefix(CONSOLE_PATH)]
        body = (STATIC / name).read_bytes()
        if name == "index.html":  # its own files' links carry the token the guard asks for
            body = body.replace(b"__TOKEN__", urllib.parse.quote(self._token).encode())
        return web.Response(
            body=body,
            content_type=content_type,
            charset="utf-8",
            headers=PAGE_HEADERS,
        )

    async def _highlight_css(self, request: web.Request) -> web.Response:
        return web.Response(
            text=stylesheet(), content_type="text/css", charset="utf-8", headers=PAGE_HEADERS
        )

    # -- health ----------------------------------------------------------------------------
    async def _health(self, request: web.Request) -> web.Response:
        emulator, model = await asyncio.gather(
            _blocking(self._health_of, self.emulator_url), _blocking(self._model_health)
        )
        answers = [e for e in self.feed.recent(50) if e.status == 200 and e.output_tokens]
        last = answers[-5:]
        seconds = sum(e.latency_ms for e in last) / 1000
        return web.json_response(
            {
                "processes": [
                    {
                        "name": "stage server",
                        "ok": True,
                        "detail": f"pid {os.getpid()}, up {time.time() - self._started:.0f} s",
                    },
                    {"name": "gateway", "ok": True, "detail": f"http://{request.host}"},
                    {"name": "emulator", "ok": emulator is not None, "detail": self.emulator_url},
                    {
                        "name": "runtime",
                        "ok": True,
                        "detail": _listing(self.runtime.warm_workers(), "warm workers")
                        or "no function invoked yet",
                    },
                    {
                        "name": "SQS pollers",
                        "ok": True,
                        "detail": ", ".join(
                            f"{arn.rsplit(':', 1)[-1]} -> {name}"
                            for arn, name in self.pollers.polled_queues().items()
                        )
                        or "no event source mapping",
                    },
                    model["process"],
                ],
                "model": {
                    **model["model"],
                    "answers": len(last),
                    "tokens_per_second": round(sum(e.output_tokens or 0 for e in last) / seconds, 1)
                    if seconds
                    else None,
                },
            }
        )

    def _health_of(self, url: str) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(health_request(url, self._token), timeout=3) as answer:
                return dict(json.loads(answer.read()))
        except (OSError, ValueError):
            return None

    def _model_health(self) -> dict[str, Any]:
        state = running_model(self.state_dir)
        if state is None:
            return {
                "process": {
                    "name": "model server",
                    "ok": None,
                    "detail": "not started by local.up (a Bedrock endpoint of your own?)",
                },
                "model": {"name": None},
            }
        health = self._health_of(state.url)
        return {
            "process": {
                "name": "model server",
                "ok": health is not None,
                "detail": f"{state.url}, pid {state.pid}"
                + (f", {health.get('in_flight', 0)} generating" if health else ", not answering"),
            },
            "model": {"name": state.model, "backend": state.backend, "source": state.source},
        }

    async def _stage(self, request: web.Request) -> Stage:
        """The stage the page shows: the one its `?stage=` names (a stack may hold several,
        deployed side by side), else the deployed API's first."""
        return await _blocking(self.resources.stage, request.query.get("stage") or None)

    # -- the feed --------------------------------------------------------------------------
    async def _requests(self, request: web.Request) -> web.Response:
        after = _int(request.query.get("after", "0"), "after")
        wait = min(float(_int(request.query.get("wait", "0"), "wait")), LONG_POLL_S)
        entries = await self.feed.after(after, wait)
        return web.json_response({"requests": [e.summary() for e in entries]})

    async def _request(self, request: web.Request) -> web.Response:
        entry = self.feed.find(request.match_info["request_id"])
        if entry is None:
            raise ConsoleError(404, "no such request in the feed (it keeps the last 500)")
        stage = await self._stage(request)
        answer = entry.answer()
        ids = [entry.request_id]
        if isinstance(answer, dict) and isinstance(answer.get("job_id"), str):
            ids.append(answer["job_id"])
        lines = await _blocking(self.resources.log_lines, ids, stage.functions)
        stored = None
        if isinstance(answer, dict) and answer.get("key") and answer.get("bucket"):
            stored = await self._object_view(str(answer["bucket"]), str(answer["key"]))
        return web.json_response(
            {
                **entry.summary(),
                "request_body": entry.request_body,
                "answer": answer,
                "logs": lines,
                "object": stored,
            }
        )

    # -- spend per caller ------------------------------------------------------------------
    async def _spend(self, request: web.Request) -> web.Response:
        stage = await self._stage(request)
        if not stage.spend_table:
            return web.json_response({"callers": [], "table": None})
        now = datetime.now(UTC)
        callers = await _blocking(self.resources.spend, stage.spend_table, now)
        return web.json_response(
            {"callers": callers, "table": stage.spend_table, "day": f"{now:%Y-%m-%d}"}
        )

    # -- jobs and dead letters -------------------------------------------------------------
    async def _jobs(self, request: web.Request) -> web.Response:
        stage = await self._stage(request)
        if not stage.jobs_table or not stage.queue_url:
            return web.json_response({"jobs": [], "dead_letter_queue": None, "dead_letters": []})
        jobs, (dlq, letters) = await asyncio.gather(
            _blocking(self.resources.jobs, stage.jobs_table),
            _blocking(self.resources.dead_letters, stage.queue_url),
        )
        return web.json_response({"jobs": jobs, "dead_letter_queue": dlq, "dead_letters": letters})

    async def _send_back(self, request: web.Request) -> web.Response:
        _json_body_required(request)
        stage = await self._stage(request)
        if not stage.queue_url:
            raise ConsoleError(409, "the stage has no job queue")
        sent = await _blocking(
            self.resources.send_back, stage.queue_url, request.match_info["message_id"]
        )
        return web.json_response({"sent": sent, "queue": stage.queue_url})

    # -- objects ---------------------------------------------------------------------------
    async def _objects(self, request: web.Request) -> web.Response:
        stage = await self._stage(request)
        if not stage.bucket:
            raise ConsoleError(409, "the stage has no bucket")
        listing = await _blocking(
            self.resources.objects, stage.bucket, request.query.get("prefix", "")
        )
        return web.json_response(listing)

    async def _object(self, request: web.Request) -> web.StreamResponse:
        stage = await self._stage(request)
        key = request.query.get("key", "")
        if not stage.bucket or not key:
            raise ConsoleError(400, "name an object: ?key=...")
        if request.query.get("download"):
            body, _, _ = await _blocking(self.resources.object, stage.bucket, key)
            return web.Response(
                body=body,
                content_type="application/octet-stream",
                headers={
                    **PAGE_HEADERS,
                    "Content-Disposition": f'attachment; filename="{Path(key).name}"',
                },
            )
        return web.json_response(await self._object_view(stage.bucket, key))

    async def _object_view(self, bucket: str, key: str) -> dict[str, Any]:
        body, metadata, content_type = await _blocking(self.resources.object, bucket, key)
        code = body.decode("utf-8", "replace")
        return {
            "bucket": bucket,
            "key": key,
            "size": len(body),
            "content_type": content_type,
            "metadata": metadata,
            "html": as_html(code, metadata.get("language"), key),
        }

    # -- try it ----------------------------------------------------------------------------
    async def _try(self, request: web.Request) -> web.Response:
        _json_body_required(request)
        try:
            asked = await request.json()
        except ValueError:
            raise ConsoleError(400, "the body is not JSON") from None
        if not isinstance(asked, dict):
            raise ConsoleError(400, "send a JSON object")
        message = asked.get("message")
        if not isinstance(message, str) or not message.strip():
            raise ConsoleError(400, "say what to write: a message")
        if len(message) > MAX_TRY_MESSAGE:
            raise ConsoleError(400, f"the message is over {MAX_TRY_MESSAGE} characters")
        body: dict[str, Any] = {"message": message, "key": str(asked.get("language") or "python")}
        for name in ("max_tokens", "temperature", "top_p", "top_k"):
            if asked.get(name) not in (None, ""):
                body[name] = asked[name]
        stage = await self._stage(request)
        method = "POST" if asked.get("mode") == "job" else "PUT"  # POST: the job route
        return web.json_response(
            await self._through_gateway(request, method, stage.path(method), body)
        )

    async def _job(self, request: web.Request) -> web.Response:
        stage = await self._stage(request)
        job_id = request.match_info["job_id"]
        if not re.fullmatch(r"[0-9A-Za-z-]{1,64}", job_id):
            raise ConsoleError(400, "a job id is a UUID")
        path = stage.path("GET", job_id)
        return web.json_response(await self._through_gateway(request, "GET", path, None))

    async def _through_gateway(
        self, request: web.Request, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Send a request to this gateway as a caller would, through the tooling's client
        (deploy.call): SigV4-signed with the local stack's credentials (the route's
        authorization is the gateway's to check). On threads of the console's own: a "try it"
        waits on the model for up to a minute, and the gateway it calls needs the event loop's
        default threads to cold-start the function that answers it."""
        url = f"http://{request.host}{path}"
        data = json.dumps(body).encode() if body is not None else b""
        started = time.perf_counter()
        sent = partial(
            send,
            url,
            data,
            region=self.region,
            credentials=self._credentials,
            method=method,
            timeout=60.0,
        )
        try:
            answer = await asyncio.get_running_loop().run_in_executor(self._senders, sent)
        except OSError as exc:
            raise ConsoleError(502, f"the gateway did not answer: {exc}") from exc
        try:
            payload: Any = answer.json()
        except ValueError:
            payload = answer.body.decode(errors="replace")
        return {
            "status": answer.status,
            "request_id": answer.header("apigw-requestid"),
            "location": answer.header("Location"),
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "body": payload,
        }


def _answering_errors(handler: Handler) -> Handler:
    async def answering(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ConsoleError as exc:
            return web.json_response({"message": str(exc)}, status=exc.status)

    return answering


async def _blocking(function: Callable[..., Any], *arguments: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *arguments))


def _json_body_required(request: web.Request) -> None:
    """A POST of the console's comes with Content-Type: application/json, which no form and
    no "simple" cross-origin request can send."""
    if not is_json(request.content_type):
        raise ConsoleError(415, "send Content-Type: application/json")


def _int(text: str, name: str) -> int:
    try:
        return max(0, int(text))
    except ValueError:
        raise ConsoleError(400, f"{name} must be a whole number") from None


def _listing(counts: dict[str, int], what: str) -> str:
    return ", ".join(f"{name}: {count} {what}" for name, count in counts.items())
