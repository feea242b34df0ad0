"""The scripted engine: it answers with the text it was given, at the rate it was given, and
spends no CPU doing it (its generations wait on the clock, not on a model).

Tests of service logic (jobs, timeouts, retries, idempotency, progress, load) use it, so that
their times are the scenario's, not the machine's: a 600-token answer at 40 tokens a second
takes 15 s on any machine. It is chosen per request, by a rule on the model server's
`/_local/script` path (the first live rule whose path glob matches answers the request), or per
server (`python -m local_stage.model.server --script FILE.json`):

    POST   /_local/script  {"text": "def add(a, b): ...", "tokens_per_s": 40,
                            "first_token_delay_s": 2, "path": "/model/*/converse", "times": 1}
    GET    /_local/script  (the rules, each with how many requests it has answered)
    DELETE /_local/script  (removes every rule; generations under way finish)

A script answers like the model would: whitespace-led words are its tokens, `max_tokens` cuts
it (stop reason `max_tokens`), the request's stop sequences end it, the server's time limit
ends it with ModelTimeoutException, and a caller that goes away stops it.
"""

import fnmatch
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, get_args

from local_stage.faults import RuleTable
from local_stage.model.chat import ChatRequest, Completion, StopReason, StopScanner
from local_stage.model.engine import Job

PATH = "/_local/script"
NAME = "scripted"
_MAX_SECONDS = 600.0
_MAX_RATE = 10_000.0
_TOKEN = re.compile(r"\s*\S+|\s+$")
Clock = Callable[[], float]


@dataclass(frozen=True)
class Script:
    """What one scripted generation answers, and how fast."""

    text: str
    tokens_per_s: float = 50.0
    first_token_delay_s: float = 0.0
    stop_reason: StopReason = "end_turn"
    input_tokens: int | None = None  # None: the prompt's words are counted

    @classmethod
    def parse(cls, data: Any) -> "Script":
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise ValueError('a script is a JSON object with at least a "text" to answer')
        script = cls(
            text=data["text"],
            tokens_per_s=float(data.get("tokens_per_s", cls.tokens_per_s)),
            first_token_delay_s=float(data.get("first_token_delay_s", 0.0)),
            stop_reason=data.get("stop_reason", "end_turn"),
            input_tokens=None if data.get("input_tokens") is None else int(data["input_tokens"]),
        )
        if not 0 < script.tokens_per_s <= _MAX_RATE:
            raise ValueError(f"tokens_per_s must be above 0 and at most {_MAX_RATE:.0f}")
        if not 0 <= script.first_token_delay_s <= _MAX_SECONDS:
            raise ValueError(f"first_token_delay_s must be between 0 and {_MAX_SECONDS:.0f}")
        if script.stop_reason not in get_args(StopReason):
            raise ValueError(f"stop_reason must be one of {', '.join(get_args(StopReason))}")
        if script.input_tokens is not None and script.input_tokens < 0:
            raise ValueError("input_tokens must be 0 or more")
        return script

    def tokens(self) -> list[str]:
        """The text in the pieces it streams in: each word with the whitespace before it."""
        return _TOKEN.findall(self.text)


class ScriptedEngine:
    """An Engine (local_stage.model.engine) that plays a Script. Its threads only wait."""

    kind = NAME

    def __init__(
        self, script: Script, parallelism: int = 64, clock: Clock = time.monotonic
    ) -> None:
        """`clock`: the scenario's time (the scheduler's deadlines are time.monotonic's)."""
        self.script = script
        self.clock = clock
        self.name = NAME
        self.parallelism = parallelism

    def generate(self, job: Job) -> Completion:
        script, request = self.script, job.request
        tokens = script.tokens()
        stop_reason: StopReason = script.stop_reason
        if request.max_tokens is not None and len(tokens) > request.max_tokens:
            tokens, stop_reason = tokens[: request.max_tokens], "max_tokens"
        scanner = StopScanner(request.stop_sequences)
        written: list[str] = []
        _wait(job, script.first_token_delay_s, self.clock)
        count = 0
        for count, token in enumerate(tokens, start=1):
            if count > 1:
                _wait(job, 1 / script.tokens_per_s, self.clock)
            _emit(job, scanner.feed(token), written)
            if scanner.matched is not None:
                stop_reason = "stop_sequence"
                break
        else:
            _emit(job, scanner.flush(), written)
        return Completion(
            text="".join(written),
            stop_reason=stop_reason,
            input_tokens=_input_tokens(script, request),
            output_tokens=count,
            stop_sequence=scanner.matched,
        )

    def close(self) -> None:
        """Nothing to release: a scripted engine holds no model."""


def _wait(job: Job, seconds: float, clock: Clock) -> None:
    """Sleep `seconds` of the scenario, ending early (with the job's own error) when the
    caller goes away or the server's time limit passes first."""
    until = clock() + seconds
    while (now := clock()) < until:
        job.check(now)
        job.cancelled.wait(min(until, job.deadline) - now)
    job.check(clock())


def _emit(job: Job, text: str, written: list[str]) -> None:
    if text:
        written.append(text)
        job.on_text(text)


def _input_tokens(script: Script, request: ChatRequest) -> int:
    if script.input_tokens is not None:
        return script.input_tokens
    prompt = [request.system or ""] + [message.text for message in request.messages]
    return sum(len(text.split()) for text in prompt)


@dataclass
class ScriptRule:
    """A script for the requests whose path matches `path` (a glob), `times` of them (0: all)."""

    script: Script
    path: str = "/model/*"
    times: int = 0
    hits: int = 0

    @classmethod
    def parse(cls, data: Any) -> "ScriptRule":
        script = Script.parse(data)
        rule = cls(script, path=str(data.get("path", "/model/*")), times=int(data.get("times", 0)))
        if not rule.path.startswith("/model/"):
            raise ValueError("path must be a glob over /model/{modelId}/{operation}")
        if rule.times < 0:
            raise ValueError("times must be 0 (every request) or more")
        return rule

    def describe(self) -> dict[str, Any]:
        return {**asdict(self.script), "path": self.path, "times": self.times, "hits": self.hits}


class ScriptTable(RuleTable[ScriptRule]):
    """The model server's script rules, in the order they were added."""

    def __init__(self) -> None:
        super().__init__(ScriptRule.describe)

    def take(self, path: str) -> Script | None:
        """The script of the first live rule for `path` (counting the hit), or None."""
        rule = self.take_first(lambda rule: fnmatch.fnmatchcase(path, rule.path))
        return None if rule is None else rule.script
