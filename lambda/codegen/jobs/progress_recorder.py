"""A running job's progress, written to its record while the model writes: the output tokens
so far, at most once every PROGRESS_INTERVAL_S, never holding up the model's stream (a write
runs beside it; while one is still running, the next due is skipped, not queued).

Progress is for the job's owner to watch (GET shows it); losing a write loses nothing else,
so a failed one is logged and forgotten. Only the attempt that holds the job may write it
(codegen.jobs.store), so a late write never touches a finished job or another attempt's.
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

from botocore.exceptions import BotoCoreError, ClientError

from codegen.jobs.store import JobStore

logger = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 5.0


class ProgressRecorder:
    """Called with the tokens so far after each piece of a streamed answer
    (codegen.generation.bedrock's Progress); `clock` gives seconds (monotonic)."""

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        attempt: str,
        executor: Executor,
        *,
        interval_s: float = PROGRESS_INTERVAL_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.attempt = attempt
        self.executor = executor
        self.interval_s = interval_s
        self.clock = clock or time.monotonic
        self._last = self.clock()  # the first write is due one interval into the answer
        self._writing: Future[None] | None = None
        self.writes = 0

    def __call__(self, tokens: int) -> None:
        now = self.clock()
        if now - self._last < self.interval_s:
            return
        if self._writing is not None and not self._writing.done():
            return
        self._last = now
        self.writes += 1
        self._writing = self.executor.submit(self._write, tokens)

    def _write(self, tokens: int) -> None:
        try:
            self.store.progress(self.job_id, self.attempt, tokens)
        except (ClientError, BotoCoreError) as exc:
            logger.warning("job %s: its progress was not recorded: %s", self.job_id, exc)
