"""The local HTTP API gateway (aiohttp): request in -> route, throttle, auth, payload event ->
runtime worker -> result mapped back, as API Gateway HTTP APIs do."""

import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from local_stage.access.guard import aiohttp_guard
from local_stage.access.sigv4 import verify
from local_stage.contract import ACCOUNT_ID, HEALTH_PATH
from local_stage.control_plane import Api, ControlPlane, Route
from local_stage.emulator.principals import Principals
from local_stage.gateway import results
from local_stage.gateway.access_log import AccessRecord, render
from local_stage.gateway.events import IncomingRequest, RequestContext, payload_v1, payload_v2
from local_stage.gateway.results import HttpResponse, map_result
from local_stage.gateway.routing import match_route, select_api
from local_stage.gateway.served import OnServed, Served
from local_stage.gateway.throttle import Throttle
from local_stage.logs.shipper import LogShipper, group_of
from local_stage.runtime.service import RuntimeService

logger = logging.getLogger(__name__)
MAX_PAYLOAD = 10 * 1024 * 1024  # HTTP APIs accept 10 MB
MAX_INTEGRATION_S = 30.0
_BODY = "local_stage.request_body"  # the request's body, kept on it for on_served


async def _body_within_limit(request: web.Request) -> bytes | None:
    """The body, or None when it is over API Gateway's 10 MB: refused from its declared
    length before any of it is read, else as soon as the stream passes the limit."""
    if request.content_length is not None and request.content_length > MAX_PAYLOAD:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_PAYLOAD:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class Gateway:
    def __init__(
        self,
        control: ControlPlane,
        runtime: RuntimeService,
        principals: Principals,
        access_log: Path,
        token: str,
        shipper: LogShipper | None = None,
        on_served: OnServed | None = None,
        own_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        """`on_served` hears of each request answered (the stack wires the console's feed);
        `own_routes` adds the stage server's other routes (the console's) before the API's
        catch-all."""
        self.control = control
        self.runtime = runtime
        self.principals = principals
        self.throttle = Throttle()
        self.shipper = shipper
        self.on_served = on_served
        self._access_stream = secrets.token_hex(16)  # this gateway's stream in the group
        access_log.parent.mkdir(parents=True, exist_ok=True)
        self._access = access_log.open("a", encoding="utf-8", buffering=1)
        # The body limit is _body_within_limit's; /_local/ paths ask for the stack's token.
        self.app = web.Application(middlewares=[aiohttp_guard(token)])
        self.app.router.add_get(HEALTH_PATH, self._health)
        if own_routes is not None:
            own_routes(self.app)
        self.app.router.add_route("*", r"/{tail:[\s\S]*}", self._handle)  # any path, newlines too

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = AccessRecord(
            str(uuid.uuid4()),
            request.method,
            request.path,
            f"HTTP/{request.version.major}.{request.version.minor}",
            request.remote or "127.0.0.1",
        )
        started = time.perf_counter()
        try:
            response = await self._serve(request, record)
        except Exception:
            logger.exception("gateway failure")
            response = results.INTERNAL
        record.status, record.response_length = response.status, len(response.body)
        if record.status >= 400 and record.error_message is None:
            record.error_message = _message_of(response)
        self._log_access(record, started)
        if self.on_served is not None:
            await self._report(request, record, response, started)
        out = web.Response(status=response.status, body=response.body)
        for name, value in response.headers:
            out.headers.add(name, value)
        out.headers["apigw-requestid"] = record.request_id
        return out

    async def _serve(self, request: web.Request, record: AccessRecord) -> HttpResponse:
        body = await _body_within_limit(request)
        if body is None:
            return results.TOO_LARGE
        request[_BODY] = body
        api = select_api(self.control.apis(), request.host, request.path)
        if api is None:
            return results.NOT_FOUND
        stage_name, path = self._split_stage(api, request.path)
        stage = api.stages.get(stage_name) if stage_name else None
        if stage is None:
            return results.NOT_FOUND
        matched = match_route(api.routes, request.method, path)
        if matched is None:
            return results.NOT_FOUND
        route, params = matched
        record.route_key, record.stage = route.route_key, stage
        rate, burst = stage.route_limits.get(route.route_key, (stage.rate_limit, stage.burst_limit))
        if not self.throttle.allow((api.api_id, stage.name, route.route_key), rate, burst):
            return results.TOO_MANY
        headers = list(request.headers.items())
        iam = None
        if route.authorization_type == "AWS_IAM":
            url = f"{request.scheme}://{request.host}{request.raw_path}"
            verdict = verify(
                request.method, url, headers, body, self.principals, self.control.region
            )
            if not verdict.ok:
                return results.gateway_error(403, verdict.message)
            iam = self.principals.identity(
                verdict.access_key, request.headers.get("X-Amz-Security-Token")
            )
            record.iam = iam
            if iam is None:
                message = "The security token included in the request is invalid."
                return results.gateway_error(403, message)
        elif route.authorization_type not in ("NONE", ""):
            logger.error("authorization %s is not supported locally", route.authorization_type)
            return results.INTERNAL
        incoming = IncomingRequest(
            request.method,
            request.path,
            request.query_string,
            headers,
            body,
            record.source_ip,
            record.protocol,
        )
        context = RequestContext(
            ACCOUNT_ID,
            api.api_id,
            stage.name,
            route.route_key,
            record.request_id,
            request.host.split(":", 1)[0],
            params,
            stage.variables,
            iam,
        )
        return await self._integrate(api, stage.name, route, incoming, context, record)

    async def _integrate(
        self,
        api: Api,
        stage: str,
        route: Route,
        incoming: IncomingRequest,
        context: RequestContext,
        record: AccessRecord,
    ) -> HttpResponse:
        integration = route.integration
        if integration is None or integration.integration_type != "AWS_PROXY":
            logger.error("route %s has no Lambda proxy integration", route.route_key)
            return results.INTERNAL
        name = integration.function_name
        function = self.control.function(name) if name else None
        if function is None:
            logger.error("integration of %s targets unknown function %s", route.route_key, name)
            return results.INTERNAL
        resource = route.path if route.route_key != "$default" else "$default"
        source_arn = (
            f"arn:aws:execute-api:{self.control.region}:{ACCOUNT_ID}:{api.api_id}/"
            f"{stage}/{incoming.method}{resource}"
        )
        if not function.allows(source_arn):
            logger.error("function %s has no permission for %s", function.name, source_arn)
            return results.INTERNAL
        version = integration.payload_format_version
        event = payload_v2(incoming, context) if version == "2.0" else payload_v1(incoming, context)
        wait_s = min(integration.timeout_ms / 1000, MAX_INTEGRATION_S)
        invoked = time.perf_counter()
        result = await self.runtime.invoke(function, json.dumps(event).encode(), wait_s)
        record.integration_latency_ms = int((time.perf_counter() - invoked) * 1000)
        if result is None:
            record.integration_error = "Network error communicating with endpoint"
            return results.UNAVAILABLE
        record.integration_status = 200
        if not result.ok:
            record.integration_error = "The Lambda function returned the following error: " + (
                result.error_type or "Unhandled"
            )
            if result.error_type == "Local.SetupError":
                detail = json.loads(result.payload).get("errorMessage", "")
                return HttpResponse(
                    500,
                    results.INTERNAL.body,
                    [*results.INTERNAL.headers, ("x-local-error", detail[:500])],
                )
            return results.INTERNAL
        return map_result(result.payload, version)

    async def _report(
        self, request: web.Request, record: AccessRecord, response: HttpResponse, started: float
    ) -> None:
        assert self.on_served is not None
        headers = {name.lower(): value for name, value in response.headers}
        await self.on_served(
            Served(
                method=record.method,
                path=record.path,
                route_key=record.route_key,
                status=response.status,
                latency_ms=(time.perf_counter() - started) * 1000,
                request_id=record.request_id,
                request_body=request.get(_BODY, b""),
                response_body=response.body,
                response_type=headers.get("content-type", ""),
                location=headers.get("location"),
            )
        )

    @staticmethod
    def _split_stage(api: Api, path: str) -> tuple[str | None, str]:
        first, _, rest = path.lstrip("/").partition("/")
        if first in api.stages and first != "$default":
            return first, "/" + rest
        if "$default" in api.stages:
            return "$default", path
        return None, path

    def _log_access(self, record: AccessRecord, started: float) -> None:
        """The request's line in `.local/logs/access.log`, and its event in the stage's
        access-log group in the stage's format (as API Gateway writes it)."""
        line = {
            "requestId": record.request_id,
            "ip": record.source_ip,
            "routeKey": record.route_key,
            "method": record.method,
            "path": record.path,
            "status": record.status,
            "latencyMs": round((time.perf_counter() - started) * 1000, 2),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        }
        self._access.write(json.dumps(line) + "\n")
        stage = record.stage
        if self.shipper is None or stage is None or not stage.access_log_destination:
            return
        template = stage.access_log_format or '{"requestId": "$context.requestId"}'
        self.shipper.put(
            group_of(stage.access_log_destination),
            self._access_stream,
            render(template, record.context()),
            int(record.started_s * 1000),
        )


def _message_of(response: HttpResponse) -> str | None:
    """The `message` of an error the gateway answered itself (`{"message": ...}`)."""
    try:
        found = json.loads(response.body).get("message")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None
