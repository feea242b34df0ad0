"""The HTTP side of the model server (aiohttp): bedrock-runtime's REST paths, SigV4 checked
against the local credentials, Bedrock's error shapes.

    POST /model/{modelId}/converse          Converse
    POST /model/{modelId}/converse-stream   ConverseStream (an AWS event stream)
    POST /model/{modelId}/invoke            InvokeModel with an Anthropic messages body
    GET  /_local/health                     which model answers, how busy it is
    *    /_local/faults                     Bedrock's failures on demand (local_stage.faults)
    *    /_local/script                     scripted answers (local_stage.model.scripted)

Every modelId is served by the one configured backend, or by a script whose rule matches the
request; responses name the model that really answered (`x-local-model` header, and the
bodies' model fields).
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from local_stage.access.guard import aiohttp_guard, is_json
from local_stage.access.sigv4 import verify
from local_stage.contract import HEALTH_PATH
from local_stage.faults import JSON_ONLY, FaultRule, FaultTable, RuleTable
from local_stage.faults import PATH as FAULTS_PATH
from local_stage.model import eventstream
from local_stage.model.anthropic import messages_response, parse_messages_body
from local_stage.model.chat import Completion
from local_stage.model.errors import BedrockError, internal, validation
from local_stage.model.protocol import converse_response, parse_converse, usage
from local_stage.model.scheduler import Scheduler
from local_stage.model.scripted import PATH as SCRIPT_PATH
from local_stage.model.scripted import Script, ScriptedEngine, ScriptRule, ScriptTable

logger = logging.getLogger(__name__)
MAX_BODY = 20 * 1024 * 1024
SIGNING_NAME = "bedrock"

Operation = Callable[[web.Request, Any, str, Scheduler], Awaitable[web.StreamResponse]]


class ModelServer:
    def __init__(
        self,
        scheduler: Scheduler,
        *,
        credentials: dict[str, str] | None,
        region: str,
        token: str,
    ) -> None:
        """`credentials` (access key -> secret) enables SigV4 checks; None accepts anyone.
        Its /_local/ paths ask for `token` (local_stage.access.guard)."""
        self.scheduler = scheduler
        self.engine = scheduler.engine
        self.credentials = credentials
        self.region = region
        self.app = web.Application(client_max_size=MAX_BODY, middlewares=[aiohttp_guard(token)])
        self.faults = FaultTable()  # Bedrock's failures on demand, for tests of the function
        self.scripts = ScriptTable()  # answers on the scenario's clock, for tests of timing
        self._scripted: dict[Script, Scheduler] = {}  # one per script, made on first use
        self.app.router.add_get(HEALTH_PATH, self._health)
        self.app.router.add_route("*", FAULTS_PATH, self._faults)
        self.app.router.add_route("*", SCRIPT_PATH, self._script)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._operations: dict[str, Operation] = {
            "converse": self._converse,
            "converse-stream": self._converse_stream,
            "invoke": self._invoke,
        }

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "model": self.engine.name,
                "backend": self.engine.kind,
                "in_flight": self.scheduler.in_flight,
            }
        )

    async def _injected_fault(self, request: web.Request) -> None:
        rule = self.faults.take(request.method, request.path)
        if rule is None:
            return
        await asyncio.sleep(rule.delay_s)
        if rule.status is not None:
            raise BedrockError(rule.code, rule.status, "fault injected by the local stage")

    async def _faults(self, request: web.Request) -> web.Response:
        """POST a rule (path glob over /model/{id}/{operation}, a Bedrock error `code` and its
        `status`, `delay_s`, `times`), GET the rules with their hits, DELETE them all."""
        return await _rules_endpoint(request, self.faults, FaultRule.parse, "fault")

    async def _script(self, request: web.Request) -> web.Response:
        """POST a script rule (local_stage.model.scripted), GET the rules with their hits,
        DELETE them all (generations under way finish)."""
        return await _rules_endpoint(request, self.scripts, ScriptRule.parse, "script")

    def _scheduler_for(self, path: str) -> Scheduler:
        """The scheduler of the script whose rule takes this request, else the server's own."""
        script = self.scripts.take(path)
        if script is None:
            return self.scheduler
        if script not in self._scripted:
            self._scripted[script] = Scheduler(
                ScriptedEngine(script),
                max_queue=self.scheduler.max_queue,
                timeout_s=self.scheduler.timeout_s,
            )
        return self._scripted[script]

    def close(self) -> None:
        """Stop every generation (the model's and the scripts') and release the engines."""
        for scheduler in [self.scheduler, *self._scripted.values()]:
            scheduler.close()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            await self._injected_fault(request)
            response = await self._serve(request, request_id)
        except BedrockError as error:
            response = self._error(error, request_id)
        except Exception:
            logger.exception("model server failure (request %s)", request_id)
            response = self._error(internal(), request_id)
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "%s %s -> %s in %.0f ms (request %s)",
            request.method,
            request.path,
            response.status,
            elapsed_ms,
            request_id,
        )
        return response

    async def _serve(self, request: web.Request, request_id: str) -> web.StreamResponse:
        body = await request.read()
        parts = request.raw_path.split("?", 1)[0].split("/")
        operation = self._operations.get(parts[3]) if len(parts) == 4 else None
        if request.method != "POST" or parts[1] != "model" or operation is None:
            raise BedrockError(
                "UnknownOperationException",
                404,
                f"{request.method} {request.path} is not an operation of this "
                "server (converse, converse-stream, invoke)",
            )
        self._authenticate(request, body)
        # Every model id is served by the one backend; the log says which one was asked for.
        logger.info("%s for model %s (request %s)", parts[3], unquote(parts[2]), request_id)
        try:
            payload = json.loads(body) if body else {}
        except ValueError as exc:
            raise validation(f"The request body is not valid JSON: {exc}") from exc
        return await operation(request, payload, request_id, self._scheduler_for(request.path))

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        if self.credentials is None:
            return
        url = f"{request.scheme}://{request.host}{request.raw_path}"
        verdict = verify(
            request.method,
            url,
            list(request.headers.items()),
            body,
            self.credentials,
            self.region,
            service=SIGNING_NAME,
        )
        if not verdict.ok:
            raise BedrockError(verdict.code, 403, verdict.message)

    # -- operations ---------------------------------------------------------------------------
    async def _converse(
        self, request: web.Request, payload: Any, request_id: str, scheduler: Scheduler
    ) -> web.Response:
        chat = parse_converse(payload)
        started = time.perf_counter()
        completion = await scheduler.complete(chat)
        latency = _ms_since(started)
        model = scheduler.engine.name
        return web.json_response(
            converse_response(completion, latency, model), headers=self._headers(request_id, model)
        )

    async def _invoke(
        self, request: web.Request, payload: Any, request_id: str, scheduler: Scheduler
    ) -> web.Response:
        chat = parse_messages_body(payload)
        started = time.perf_counter()
        completion = await scheduler.complete(chat)
        model = scheduler.engine.name
        headers = self._headers(request_id, model)
        headers.update(
            {
                "X-Amzn-Bedrock-Input-Token-Count": str(completion.input_tokens),
                "X-Amzn-Bedrock-Output-Token-Count": str(completion.output_tokens),
                "X-Amzn-Bedrock-Invocation-Latency": str(_ms_since(started)),
            }
        )
        return web.json_response(messages_response(completion, model), headers=headers)

    async def _converse_stream(
        self, request: web.Request, payload: Any, request_id: str, scheduler: Scheduler
    ) -> web.StreamResponse:
        chat = parse_converse(payload)
        started = time.perf_counter()
        texts: asyncio.Queue[str] = asyncio.Queue()
        generation = scheduler.submit(chat, texts.put_nowait)  # may throttle: before 200
        model = scheduler.engine.name
        response = web.StreamResponse(
            headers={**self._headers(request_id, model), "Content-Type": eventstream.CONTENT_TYPE}
        )
        await response.prepare(request)
        await response.write(eventstream.event("messageStart", {"role": "assistant"}))
        finished = asyncio.ensure_future(generation.result())
        next_text: asyncio.Future[str] | None = None
        try:
            while True:
                next_text = asyncio.ensure_future(texts.get())
                done, _ = await asyncio.wait(
                    {next_text, finished}, return_when=asyncio.FIRST_COMPLETED
                )
                if next_text not in done:
                    break
                await response.write(_delta(next_text.result()))
            while not texts.empty():  # text queued before the generation's end was seen
                await response.write(_delta(texts.get_nowait()))
            completion = finished.result()
        except BedrockError as error:
            await response.write(_stream_error(error))
            return response
        finally:
            if next_text is not None and not next_text.done():
                next_text.cancel()
            if not finished.done():  # the client went away: stop generating for it
                finished.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await finished
        await response.write(eventstream.event("contentBlockStop", {"contentBlockIndex": 0}))
        await response.write(eventstream.event("messageStop", _message_stop(completion, model)))
        await response.write(
            eventstream.event(
                "metadata",
                {"usage": usage(completion), "metrics": {"latencyMs": _ms_since(started)}},
            )
        )
        await response.write_eof()
        return response

    # -- shapes -------------------------------------------------------------------------------
    def _headers(self, request_id: str, model: str | None = None) -> dict[str, str]:
        """`model`: the one that answered (the server's engine unless a script did)."""
        name = model or self.engine.name
        return {"x-amzn-RequestId": request_id, "x-local-model": _header_safe(name)}

    def _error(self, error: BedrockError, request_id: str) -> web.Response:
        headers = {**self._headers(request_id), "X-Amzn-ErrorType": error.code}
        return web.json_response({"message": error.message}, status=error.status, headers=headers)


async def _rules_endpoint(
    request: web.Request, table: RuleTable[Any], parse: Callable[[Any], Any], kind: str
) -> web.Response:
    """A /_local/ rules path: POST a rule (JSON only), GET the rules, DELETE them all."""
    if request.method == "DELETE":
        table.clear()
    elif request.method == "POST" and not is_json(request.content_type):
        return web.json_response({"error": JSON_ONLY.replace("fault", kind)}, status=415)
    elif request.method == "POST":
        try:
            table.add(parse(await request.json()))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    elif request.method != "GET":
        return web.json_response({"error": "GET, POST a rule, or DELETE all"}, status=405)
    return web.json_response({"rules": table.describe()})


def _delta(text: str) -> bytes:
    return eventstream.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})


def _message_stop(completion: Completion, model: str) -> dict[str, Any]:
    return {"stopReason": completion.stop_reason, "additionalModelResponseFields": {"model": model}}


# The errors ConverseStream can send once the stream began; any other failure travels as a
# modelStreamErrorException carrying its original status, as Bedrock does.
_STREAM_ERRORS = {
    "ValidationException": "validationException",
    "ThrottlingException": "throttlingException",
    "ServiceUnavailableException": "serviceUnavailableException",
    "InternalServerException": "internalServerException",
}


def _stream_error(error: BedrockError) -> bytes:
    name = _STREAM_ERRORS.get(error.code)
    if name is not None:
        return eventstream.exception(name, {"message": error.message})
    return eventstream.exception(
        "modelStreamErrorException",
        {
            "message": f"{error.code}: {error.message}",
            "originalStatusCode": error.status,
            "originalMessage": error.message,
        },
    )


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _header_safe(text: str) -> str:
    return text.encode("ascii", "replace").decode().replace("\n", " ")[:200]
