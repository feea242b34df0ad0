"""The warm workers of one function version: reused while idle, started on demand up to the
concurrency bound, retired when a redeploy changes the code or configuration."""

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from local_stage.control_plane import Function
from local_stage.runtime.invocation import Invocation, InvokeResult
from local_stage.runtime.worker import Worker

logger = logging.getLogger(__name__)


class PoolRetired(Exception):
    """The pool was replaced by a newer version of the function."""


# Starts a worker process for the pool (the service knows code, env and ports).
Spawner = Callable[["WorkerPool", Invocation], Awaitable[Worker]]


class WorkerPool:
    def __init__(self, function: Function, max_workers: int, spawner: Spawner) -> None:
        self.function = function
        self.max_workers = max_workers
        self._spawner = spawner
        self.workers: set[Worker] = set()
        self._starting = 0
        self._queue: deque[Invocation] = deque()
        self._idle: deque[asyncio.Future[Invocation]] = deque()
        # The idle worker behind each waiting GET /next: a worker that dies while idle leaves
        # its request open, and must not be handed the next invocation.
        self._waiting: dict[Worker, asyncio.Future[Invocation]] = {}
        self.retired = False

    def submit(self, event: bytes) -> Invocation:
        invocation = Invocation(event)
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(invocation)
                return invocation
        self._queue.append(invocation)
        if len(self.workers) + self._starting < self.max_workers:
            self._starting += 1
            asyncio.get_running_loop().create_task(self._spawn(invocation))
        return invocation

    def hand_back(self, invocation: Invocation) -> None:
        """A worker was handed `invocation` but is gone before it could begin it (it died
        while idle, and its exit is not seen yet): the invocation goes first to the next
        worker, as if never handed out. A worker is started for it when the bound allows;
        otherwise the dying worker's exit starts one."""
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(invocation)
                return
        self._queue.appendleft(invocation)
        if not self.retired and len(self.workers) + self._starting < self.max_workers:
            self._starting += 1
            asyncio.get_running_loop().create_task(self._spawn(invocation))

    def cancel(self, invocation: Invocation) -> None:
        """The caller gave up (integration timeout) before a worker took it."""
        invocation.cancelled = True
        if invocation in self._queue:
            self._queue.remove(invocation)

    async def take(self, worker: Worker) -> Invocation:
        """Called by an idle worker's GET /next: the next invocation, waiting if none;
        CancelledError once the worker has exited while it waited."""
        while True:
            if self.retired:
                raise PoolRetired
            while self._queue:
                invocation = self._queue.popleft()
                if not invocation.cancelled:
                    return invocation
            waiter: asyncio.Future[Invocation] = asyncio.get_running_loop().create_future()
            self._idle.append(waiter)
            self._waiting[worker] = waiter
            try:
                invocation = await waiter
            finally:
                if self._waiting.get(worker) is waiter:
                    del self._waiting[worker]
            if not invocation.cancelled:
                return invocation

    def worker_exited(self, worker: Worker) -> None:
        self.workers.discard(worker)
        waiter = self._waiting.pop(worker, None)
        if waiter is not None:
            waiter.cancel()  # its GET /next will never answer: no invocation goes there
        target = worker.spawned_for
        if worker.init_error is not None or worker.init_ms is None:
            # It died before taking any invocation: fail the one it was started for, as
            # Lambda fails an invoke whose init fails, instead of leaving it waiting.
            if target in self._queue:
                self._queue.remove(target)
            payload = (
                worker.init_error
                or json.dumps(
                    {
                        "errorMessage": "Runtime exited before initialising",
                        "errorType": "Runtime.ExitError",
                    }
                ).encode()
            )
            target.finish(InvokeResult(False, payload, _error_type(payload), tuple(target.logs)))
        if self._queue and not self.retired and len(self.workers) + self._starting == 0:
            nxt = self._queue[0]
            self._starting += 1
            asyncio.get_running_loop().create_task(self._spawn(nxt))

    def retire(self) -> None:
        self.retired = True
        for waiter in self._idle:
            waiter.cancel()
        self._idle.clear()
        for worker in list(self.workers):
            if worker.current is None:
                worker.kill()

    async def close(self) -> None:
        self.retire()
        for worker in list(self.workers):
            worker.kill()
        for invocation in self._queue:
            invocation.finish(InvokeResult(False, b'{"errorMessage": "shutting down"}', "Shutdown"))
        self._queue.clear()

    async def _spawn(self, invocation: Invocation) -> None:
        try:
            await self._spawner(self, invocation)
        except Exception as exc:
            logger.exception("cannot start a worker for %s", self.function.name)
            if invocation in self._queue:
                self._queue.remove(invocation)
            payload = json.dumps({"errorMessage": str(exc), "errorType": "Local.SetupError"})
            invocation.finish(InvokeResult(False, payload.encode(), "Local.SetupError"))
        finally:
            self._starting -= 1


def _error_type(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("errorType", ""))
    except (ValueError, AttributeError):
        return ""
