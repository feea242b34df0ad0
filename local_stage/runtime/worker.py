"""One worker process: the deployed code run by awslambdaric, one invocation at a time."""

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from local_stage.logs.shipper import lambda_stream_name
from local_stage.runtime.invocation import Invocation, InvokeResult
from local_stage.runtime.logs import FunctionLog

_MAX_LOG_LINES = 1000


def timeout_error(seconds: float) -> bytes:
    return json.dumps(
        {
            "errorMessage": f"Task timed out after {seconds:.2f} seconds",
            "errorType": "Sandbox.Timedout",
        }
    ).encode()


class Worker:
    def __init__(
        self,
        worker_id: int,
        port: int,
        log: FunctionLog,
        timeout: float,
        memory_mb: int,
        spawned_for: Invocation,
        on_exit: Callable[["Worker"], None],
    ) -> None:
        self.worker_id = worker_id
        self.port = port
        self.log = log
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.spawned_for = spawned_for
        self.on_exit = on_exit
        self.pool: Any = None  # the WorkerPool that owns this worker
        self.process: asyncio.subprocess.Process | None = None
        self.current: Invocation | None = None
        self.spawned_at = time.monotonic()
        self.stream = lambda_stream_name()  # its log stream: one per execution environment
        self.init_ms: float | None = None  # set when the first /next arrives
        self.init_error: bytes | None = None
        self._peak_mb = 0
        self._timer: asyncio.TimerHandle | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def running(self) -> bool:
        """The process runs (psutil sees a killed one before asyncio reaps it)."""
        if not self.alive or self.process is None:
            return False
        try:
            return psutil.Process(self.process.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    async def start(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=env,
            start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._pump = asyncio.get_running_loop().create_task(self._read_output())

    # -- the Runtime API calls, routed here by the server ------------------------------------
    def begin(self, invocation: Invocation) -> None:
        """The worker took `invocation` (its GET /next returns it now)."""
        now = time.monotonic()
        if self.init_ms is None:
            self.init_ms = (now - self.spawned_at) * 1000
            invocation.init_ms = self.init_ms
        self.current = invocation
        invocation.started = now
        self.log.write(
            invocation.request_id,
            f"START RequestId: {invocation.request_id} Version: $LATEST",
            self.stream,
        )
        self._timer = asyncio.get_running_loop().call_later(
            self.timeout, self._timed_out, invocation
        )

    def complete(self, request_id: str, ok: bool, payload: bytes, error_type: str = "") -> bool:
        invocation = self.current
        if invocation is None or invocation.request_id != request_id:
            return False
        self._finish(invocation, ok, payload, error_type)
        return True

    def _finish(self, invocation: Invocation, ok: bool, payload: bytes, error_type: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.current = None
        duration = (time.monotonic() - (invocation.started or invocation.created)) * 1000
        self.log.write(
            invocation.request_id, f"END RequestId: {invocation.request_id}", self.stream
        )
        report = (
            f"REPORT RequestId: {invocation.request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {int(duration) + 1} ms\tMemory Size: {self.memory_mb} MB\t"
            f"Max Memory Used: {self._max_memory_mb()} MB"
        )
        if invocation.init_ms is not None:
            report += f"\tInit Duration: {invocation.init_ms:.2f} ms"
        self.log.write(invocation.request_id, report, self.stream)
        invocation.finish(
            InvokeResult(
                ok, payload, error_type, tuple(invocation.logs), duration, invocation.init_ms
            )
        )

    def _timed_out(self, invocation: Invocation) -> None:
        if self.current is invocation:
            self.log.write(
                invocation.request_id,
                f"Task timed out after {self.timeout:.2f} seconds",
                self.stream,
            )
            self._finish(invocation, False, timeout_error(self.timeout), "Sandbox.Timedout")
            self.kill()

    # -- process ------------------------------------------------------------------------------
    def kill(self) -> None:
        if self.alive and self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    async def _read_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            invocation = self.current
            request_id = invocation.request_id if invocation else ""
            if invocation is not None and len(invocation.logs) < _MAX_LOG_LINES:
                invocation.logs.append(text)
            elif invocation is None and len(self.spawned_for.logs) < _MAX_LOG_LINES:
                self.spawned_for.logs.append(text)  # init output belongs to the cold start
            self.log.write(request_id, text, self.stream)
        await self.process.wait()
        if self.current is not None:
            error = {
                "errorMessage": f"Runtime exited with status {self.process.returncode} "
                "before answering",
                "errorType": "Runtime.ExitError",
            }
            self._finish(self.current, False, json.dumps(error).encode(), "Runtime.ExitError")
        self.on_exit(self)

    def _max_memory_mb(self) -> int:
        """The most resident memory seen at the end of any invocation, in MB (Lambda reports
        the true peak; psutil reads the size the same way on Linux and macOS)."""
        if self.process is not None:
            with contextlib.suppress(psutil.Error):
                rss = psutil.Process(self.process.pid).memory_info().rss
                self._peak_mb = max(self._peak_mb, rss // (1024 * 1024))
        return self._peak_mb
