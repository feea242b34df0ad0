"""The Lambda side of the local stage: the Runtime API server and a pool per function."""

import asyncio
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web

from local_stage.access.guard import aiohttp_guard
from local_stage.contract import new_token
from local_stage.control_plane import ControlPlane, Function
from local_stage.logs.shipper import LogShipper
from local_stage.runtime.code_store import CodeStore
from local_stage.runtime.deployment import unpack_function
from local_stage.runtime.environment import worker_environment
from local_stage.runtime.interpreter import RuntimeInterpreter, ensure_runtime
from local_stage.runtime.invocation import Invocation, InvokeResult
from local_stage.runtime.logs import FunctionLog
from local_stage.runtime.pool import PoolRetired, WorkerPool
from local_stage.runtime.worker import Worker

logger = logging.getLogger(__name__)
PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # Lambda's 6,291,556-byte synchronous limit
# How often the runtime looks for functions deployed or changed since it last looked (a look
# that finds no configuration change costs nothing).
PREPARE_CHECK_S = 2.0


def _owns_connection(pid: int, client_end: tuple[str, int]) -> bool:
    """Whether process `pid` holds the TCP socket whose local end is `client_end`."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(tuple(c.laddr[:2]) == tuple(client_end) for c in connections if c.laddr)


def _refused(message: str) -> web.Response:
    return web.json_response({"errorMessage": message}, status=403)


@dataclass(frozen=True)
class RuntimeSettings:
    root: Path  # .local: code/ and logs/
    runtimes: Path  # the runtime venvs (shared: they take a while to make)
    build_dir: Path
    region: str
    endpoints: Mapping[str, str]  # AWS_ENDPOINT_URL* for the workers
    credentials: tuple[str, str]
    max_concurrency: int = 4


class RuntimeService:
    def __init__(self, settings: RuntimeSettings, shipper: LogShipper | None = None) -> None:
        self.settings = settings
        self.shipper = shipper  # where the workers' logs go beside their files
        self.code = CodeStore(settings.root / "code", settings.build_dir)
        self._pools: dict[str, WorkerPool] = {}
        self._by_port: dict[int, Worker] = {}
        self._sites: dict[int, web.TCPSite] = {}
        self._interpreters: dict[str, RuntimeInterpreter] = {}
        # Cold starts and preparations run in threads: one makes a runtime venv, the others
        # wait for it (two would remove each other's).
        self._interpreters_lock = threading.Lock()
        self._logs: dict[str, FunctionLog] = {}
        self._next_id = 0
        # Lambda takes a synchronous response of up to 6 MB (errors and init errors are small).
        # The local servers' guard: a DNS-rebinding page (its own Host) cannot take events or
        # steal invocations, nor another site's page post an init error. The Runtime API has
        # no /_local/ path, so the token is never asked (the runtime clients cannot send it).
        # Each port answers its own worker process only (see _only_its_worker).
        app = web.Application(
            client_max_size=MAX_RESPONSE_BYTES,
            middlewares=[aiohttp_guard(new_token()), self._only_its_worker],
        )
        app.router.add_get(f"{PREFIX}/invocation/next", self._next)
        app.router.add_post(f"{PREFIX}/invocation/{{request_id}}/response", self._response)
        app.router.add_post(f"{PREFIX}/invocation/{{request_id}}/error", self._error)
        app.router.add_post(f"{PREFIX}/init/error", self._init_error)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
        await self._runner.setup()

    async def stop(self) -> None:
        for pool in list(self._pools.values()):
            await pool.close()
        await self._runner.cleanup()

    def interpreter(self, runtime: str) -> RuntimeInterpreter:
        version = runtime.removeprefix("python")
        with self._interpreters_lock:
            if version not in self._interpreters:
                self._interpreters[version] = ensure_runtime(
                    version, self.settings.runtimes, report=logger.warning
                )
            return self._interpreters[version]

    # -- preparing ----------------------------------------------------------------------------
    async def prepare(self, function: Function) -> tuple[RuntimeInterpreter, Path, list[Path]]:
        """What a worker of this version of `function` runs with: its runtime's interpreter,
        its code and its layers' directories (made, unpacked and byte-compiled the first time;
        later a stat). The watcher below calls it as a version is deployed, as Lambda readies a
        function before it is invoked: seconds of CPU a first request would otherwise wait
        for, with the gateway's clock running."""
        interpreter = await asyncio.to_thread(self.interpreter, function.runtime)
        task_dir, layer_dirs = await asyncio.to_thread(
            unpack_function, self.code, function, interpreter.python, self.settings.region
        )
        return interpreter, task_dir, layer_dirs

    async def prepare_deployed(self, control: ControlPlane) -> None:
        """Prepare every function as it is deployed or changed, until cancelled."""
        prepared: dict[str, tuple[str, str]] = {}
        seen = -1
        while True:
            await asyncio.sleep(PREPARE_CHECK_S)
            if control.changes_seen == seen:
                continue
            seen = control.changes_seen
            try:
                versions = await asyncio.to_thread(control.function_versions)
            except Exception:  # the next change looks again
                logger.warning("cannot list the deployed functions", exc_info=True)
                continue
            for name, version in versions.items():
                if prepared.get(name) == version:
                    continue
                try:
                    function = await asyncio.to_thread(control.function, name)
                    if function is not None:
                        await self.prepare(function)
                    prepared[name] = version
                except Exception:  # its first cold start does it (and says what is wrong)
                    logger.warning("cannot prepare %s", name, exc_info=True)

    # -- invoking -----------------------------------------------------------------------------
    def warm_workers(self) -> dict[str, int]:
        """Each function's running workers (the console's health view)."""
        return {name: len(pool.workers) for name, pool in self._pools.items()}

    def pool_for(self, function: Function) -> WorkerPool:
        pool = self._pools.get(function.name)
        if pool is not None and pool.function.version_key == function.version_key:
            return pool
        if pool is not None:
            pool.retire()  # a redeploy: new workers run the new code
        limit = self.settings.max_concurrency
        if function.reserved_concurrency and function.reserved_concurrency > 0:
            limit = min(limit, function.reserved_concurrency)
        pool = self._pools[function.name] = WorkerPool(function, limit, self._spawn)
        return pool

    async def invoke(self, function: Function, event: bytes, wait_s: float) -> InvokeResult | None:
        """The function's result, or None when `wait_s` passed first (the invocation goes on,
        and is ended by the function's own timeout, as on Lambda)."""
        pool = self.pool_for(function)
        invocation = pool.submit(event)
        try:
            return await asyncio.wait_for(asyncio.shield(invocation.future), wait_s)
        except TimeoutError:
            pool.cancel(invocation)
            return None

    # -- workers ------------------------------------------------------------------------------
    async def _spawn(self, pool: WorkerPool, invocation: Invocation) -> Worker:
        function = pool.function
        interpreter, task_dir, layer_dirs = await self.prepare(function)
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._next_id += 1
        log = self._logs.get(function.name)
        if log is None:
            log = self._logs[function.name] = FunctionLog(
                self.settings.root / "logs", function.name, self.shipper
            )
        worker = Worker(
            self._next_id,
            port,
            log,
            function.timeout,
            function.memory,
            invocation,
            lambda w: self._exited(pool, w),
        )
        worker.pool = pool
        pool.workers.add(worker)
        self._by_port[port] = worker
        self._sites[port] = site
        env = worker_environment(
            function,
            interpreter,
            task_dir,
            layer_dirs,
            port,
            region=self.settings.region,
            credentials=self.settings.credentials,
            endpoints=self.settings.endpoints,
        )
        command = self.runtime_command(interpreter, function)
        try:
            await worker.start(command, env, task_dir)
        except Exception:
            pool.workers.discard(worker)
            self._by_port.pop(port, None)
            await self._sites.pop(port).stop()
            raise
        return worker

    def runtime_command(self, interpreter: RuntimeInterpreter, function: Function) -> list[str]:
        """The worker process: awslambdaric running the function's handler."""
        return [str(interpreter.python), "-m", "awslambdaric", function.handler]

    def _exited(self, pool: WorkerPool, worker: Worker) -> None:
        self._by_port.pop(worker.port, None)
        site = self._sites.pop(worker.port, None)
        if site is not None:
            asyncio.get_running_loop().create_task(site.stop())
        pool.worker_exited(worker)

    # -- Runtime API handlers -------------------------------------------------------------------
    @web.middleware
    async def _only_its_worker(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A worker's Runtime API port answers that worker's process and no other: another
        local process (another user's included) that finds the port can neither take its
        invocations nor answer them. The runtime clients cannot send a secret (awslambdaric
        takes AWS_LAMBDA_RUNTIME_API as host:port), so the connection itself is checked: its
        client end must be one of the worker process's own sockets."""
        transport = request.transport
        port = transport.get_extra_info("sockname")[1] if transport else None
        worker = self._by_port.get(port) if port is not None else None
        peer = transport.get_extra_info("peername") if transport else None
        if worker is None or peer is None or worker.process is None:
            return web.json_response({"errorMessage": "unknown runtime"}, status=410)
        if not await asyncio.to_thread(_owns_connection, worker.process.pid, peer[:2]):
            logger.warning("runtime API on port %s refused a process not its worker's", port)
            return _refused("this Runtime API answers its own worker process only")
        return await handler(request)

    def _worker(self, request: web.Request) -> Worker:
        port = request.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        worker = self._by_port.get(port)
        if worker is None:
            raise web.HTTPGone(text='{"errorMessage": "unknown runtime"}')
        return worker

    async def _next(self, request: web.Request) -> web.StreamResponse:
        worker = self._worker(request)
        pool: WorkerPool = worker.pool
        try:
            invocation = await pool.take(worker)
        except (PoolRetired, asyncio.CancelledError):
            worker.kill()
            raise web.HTTPGone(text='{"errorMessage": "function version retired"}') from None
        if not _still_connected(request, worker):
            # Killed while idle, its exit not yet seen: nobody would ever answer this one.
            pool.hand_back(invocation)
            worker.kill()
            raise web.HTTPGone(text='{"errorMessage": "runtime gone"}')
        worker.begin(invocation)
        deadline = int((time.time() + worker.timeout) * 1000)
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn": pool.function.arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-"
            f"{invocation.request_id.replace('-', '')[:24]};Sampled=0",
            "Content-Type": "application/json",
        }
        return web.Response(body=invocation.event, headers=headers)

    async def _response(self, request: web.Request) -> web.Response:
        worker = self._worker(request)
        request_id = request.match_info["request_id"]
        size = request.content_length
        if size is not None and size > MAX_RESPONSE_BYTES:
            # As Lambda: the invocation fails, and the runtime is told its answer was too big.
            error = json.dumps(
                {
                    "errorMessage": f"Response payload size ({size} bytes) exceeded maximum "
                    f"allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            ).encode()
            worker.log.write(request_id, json.loads(error)["errorMessage"], worker.stream)
            worker.complete(request_id, False, error, "Function.ResponseSizeTooLarge")
            raise web.HTTPRequestEntityTooLarge(MAX_RESPONSE_BYTES, size)
        body = await request.read()
        if not worker.complete(request_id, True, body):
            raise web.HTTPBadRequest(text='{"errorMessage": "unknown request id"}')
        return web.Response(status=202, text='{"status": "OK"}')

    async def _error(self, request: web.Request) -> web.Response:
        worker = self._worker(request)
        body = await request.read()
        error_type = request.headers.get("Lambda-Runtime-Function-Error-Type", "")
        if not worker.complete(request.match_info["request_id"], False, body, error_type):
            raise web.HTTPBadRequest(text='{"errorMessage": "unknown request id"}')
        return web.Response(status=202, text='{"status": "OK"}')

    async def _init_error(self, request: web.Request) -> web.Response:
        worker = self._worker(request)
        worker.init_error = await request.read()
        return web.Response(status=202, text='{"status": "OK"}')


def _still_connected(request: web.Request, worker: Worker) -> bool:
    """Whether the worker behind this GET /next can still take what it is handed: its
    connection open and its process not exited (a zombie not yet reaped counts as exited)."""
    transport = request.transport
    if transport is None or transport.is_closing() or not worker.alive:
        return False
    return worker.running()
