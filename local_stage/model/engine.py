"""The backend interface: turn a ChatRequest into a Completion, streaming text as it comes."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from local_stage.model.chat import ChatRequest, Completion
from local_stage.model.errors import BedrockError, model_timeout

OnText = Callable[[str], None]


class Cancelled(Exception):
    """The caller went away; the engine stopped generating for it."""


@dataclass(eq=False)  # compared and hashed by identity: the scheduler keeps a set of them
class Job:
    """One request's generation: where its text goes and when it must stop."""

    request: ChatRequest
    on_text: OnText = lambda text: None
    deadline: float = float("inf")  # time.monotonic() after which the model times out
    cancelled: threading.Event = field(default_factory=threading.Event)

    def check(self, now: float | None = None) -> None:
        """Raise when the caller went away or the time is up (called between tokens); `now`
        is time.monotonic() unless the caller keeps its own clock."""
        if self.cancelled.is_set():
            raise Cancelled()
        if (time.monotonic() if now is None else now) >= self.deadline:
            raise model_timeout(
                "Model has timed out in processing the request. Try your "
                "request again, or ask for fewer tokens."
            )


class Engine(Protocol):
    """A model backend. `generate` runs in a worker thread; at most `parallelism` at once."""

    name: str  # which model really answers, as the responses report it
    kind: str  # "gguf" or "openai"
    parallelism: int

    def generate(self, job: Job) -> Completion: ...

    def close(self) -> None: ...


__all__ = ["BedrockError", "Cancelled", "Engine", "Job", "OnText"]
