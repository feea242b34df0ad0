"""Run generations on the engine's own worker threads, in arrival order.

The executor is the queue: with `parallelism` threads, a request waits until a thread is
free, and a cancelled request still holds its thread until the engine notices (between two
tokens), so the engine never runs more generations at once than it can. Beyond `max_queue`
waiting requests the server answers ThrottlingException, as Bedrock does under load.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from local_stage.model.chat import ChatRequest, Completion
from local_stage.model.engine import Engine, Job, OnText
from local_stage.model.errors import throttled


@dataclass
class Generation:
    """A submitted request: await `result()`; cancelling that stops the engine for it."""

    job: Job
    future: "asyncio.Future[Completion]"

    async def result(self) -> Completion:
        try:
            return await asyncio.shield(self.future)
        except asyncio.CancelledError:
            self.job.cancelled.set()
            raise


class Scheduler:
    def __init__(self, engine: Engine, *, max_queue: int = 32, timeout_s: float = 120.0) -> None:
        self.engine = engine
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(
            max_workers=engine.parallelism, thread_name_prefix="model"
        )
        self._in_flight = 0
        self._jobs: set[Job] = set()

    @property
    def in_flight(self) -> int:
        """Requests generating or waiting for a thread."""
        return self._in_flight

    def submit(self, request: ChatRequest, on_text: OnText | None = None) -> Generation:
        """Queue `request` (or raise ThrottlingException when the queue is full). `on_text`
        is called on the event loop with the text as it is generated."""
        if self._in_flight >= self.engine.parallelism + self.max_queue:
            raise throttled()
        loop = asyncio.get_running_loop()
        job = Job(request)
        if on_text is not None:
            job.on_text = lambda text: loop.call_soon_threadsafe(on_text, text)

        def run() -> Completion:
            # The deadline starts when a thread takes the job: queueing is not the model's time.
            job.deadline = time.monotonic() + self.timeout_s
            return self.engine.generate(job)

        self._in_flight += 1
        self._jobs.add(job)
        future = loop.run_in_executor(self._executor, run)
        future.add_done_callback(lambda done: self._finished(job, done))
        return Generation(job, future)

    async def complete(self, request: ChatRequest, on_text: OnText | None = None) -> Completion:
        return await self.submit(request, on_text).result()

    def _finished(self, job: Job, future: "asyncio.Future[Completion]") -> None:
        self._in_flight -= 1
        self._jobs.discard(job)
        if not future.cancelled():
            future.exception()  # retrieved here too, for generations whose caller went away

    def close(self) -> None:
        """Stop every generation at its next token, then release the engine."""
        for job in list(self._jobs):
            job.cancelled.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.engine.close()
