"""A GGUF model run in this process by llama.cpp, through xllamacpp's prebuilt server core.

llama.cpp's own server loop runs inside: `parallel` slots, continuous batching, so requests
that arrive together are decoded in one batch. Each request streams token by token through a
callback, which is how this engine sees every token, stops a generation (the caller went
away, the time is up, a stop sequence appeared) and counts tokens exactly (llama.cpp reports
its counts on every chunk with `timings_per_token`).

Stop sequences are matched here, not by llama.cpp: its OpenAI-style answers say "stop" both
for the end of the turn and for a stop string, and Bedrock tells the two apart.
"""

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layer_builder.errors import UserError
from local_stage.model.chat import ChatRequest, Completion, StopReason, StopScanner
from local_stage.model.engine import Cancelled, Job
from local_stage.model.errors import BedrockError, model_error, model_timeout, validation

DEFAULT_CONTEXT = 4096  # tokens per request (prompt + answer)
DEFAULT_PARALLEL = 4  # requests decoded together
# Claude's defaults for settings a request leaves unset (top_k unset = no top-k cut).
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 1.0
# llama.cpp's samplers that Bedrock does not have, switched off: only what the request asks.
_NEUTRAL_SAMPLING = {"min_p": 0.0, "typical_p": 1.0, "repeat_penalty": 1.0}
_PREBUILT_PLATFORMS = "Linux x86_64 and macOS (Apple silicon and Intel)"


class LlamaEngineError(UserError):
    """The model cannot be loaded; the message says what to install or fix."""


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise LlamaEngineError(
            "the local model engine (xllamacpp, prebuilt llama.cpp) is not installed. It has "
            f"wheels for {_PREBUILT_PLATFORMS}: run `bash scripts/setup.sh`. Elsewhere, build "
            "it from source (`pip install --no-binary xllamacpp xllamacpp`, needs a C/C++ "
            "toolchain and cmake), or run any OpenAI-compatible server (llama.cpp's "
            "llama-server, Ollama, vLLM) and start the stage with "
            "`invoke local.up --openai-url URL --openai-model NAME`"
        ) from exc
    return xllamacpp


@dataclass
class _Stream:
    """One generation as its chunks arrive; `on_chunk` answers True to stop it."""

    job: Job
    scanner: StopScanner
    pieces: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    finish: str | None = None
    error: dict[str, Any] | None = None
    failure: BaseException | None = None
    timed_out: bool = False

    def on_chunk(self, chunk: dict[str, Any]) -> bool:
        try:
            return self._take(chunk)
        except BaseException as exc:  # never let an exception cross into llama.cpp
            self.failure = exc
            return True

    def _take(self, chunk: dict[str, Any]) -> bool:
        if "error" in chunk:
            self.error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            return True
        self._count(chunk)
        for choice in chunk.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                self._emit(self.scanner.feed(text))
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        if self.scanner.matched is not None or self.job.cancelled.is_set():
            return True
        if time.monotonic() > self.job.deadline:
            self.timed_out = True
            return True
        return False

    def _count(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage")
        if usage:  # the last chunk of a finished generation: the totals
            self.input_tokens = int(usage.get("prompt_tokens") or self.input_tokens)
            self.output_tokens = int(usage.get("completion_tokens") or self.output_tokens)
            return
        timings = chunk.get("timings")
        if timings:  # every token's chunk, with timings_per_token: the counts so far
            self.input_tokens = int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0))
            self.output_tokens = int(timings.get("predicted_n", self.output_tokens))

    def _emit(self, text: str) -> None:
        if text:
            self.pieces.append(text)
            self.job.on_text(text)

    def completion(self) -> Completion:
        """What the generation produced, or the Bedrock error it ended with."""
        if self.failure is not None:
            raise self.failure
        if self.job.cancelled.is_set():
            raise Cancelled()
        if self.error is not None:
            raise _mapped_error(self.error)
        if self.timed_out:
            raise model_timeout(
                "Model has timed out in processing the request. Try your request again, or "
                "ask for fewer tokens."
            )
        reason: StopReason = "end_turn"
        if self.scanner.matched is not None:
            reason = "stop_sequence"
        else:
            self._emit(self.scanner.flush())
            if self.finish == "length":
                reason = "max_tokens"
        return Completion(
            "".join(self.pieces),
            reason,
            self.input_tokens,
            self.output_tokens,
            self.scanner.matched,
        )


def _mapped_error(error: dict[str, Any]) -> BedrockError:
    message = str(error.get("message") or "the local model failed")
    if error.get("type") == "exceed_context_size_error":
        return validation(
            f"Input is too long for requested model: {error.get('n_prompt_tokens')} tokens, "
            f"and the local model's context holds {error.get('n_ctx')}."
        )
    if error.get("code") == 400 or error.get("type") == "invalid_request_error":
        return validation(message)
    return model_error(message)


class LlamaEngine:
    kind = "gguf"

    def __init__(
        self,
        model_path: Path,
        *,
        context: int = DEFAULT_CONTEXT,
        parallel: int = DEFAULT_PARALLEL,
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        if not model_path.is_file():
            raise LlamaEngineError(f"model file not found: {model_path}")
        xllamacpp = _import_xllamacpp()
        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        # llama.cpp splits the context between its slots: give each slot a whole one.
        params.n_ctx = context * parallel
        params.n_parallel = parallel
        params.cpuparams.n_threads = threads or os.cpu_count() or 1
        params.cpuparams_batch.n_threads = params.cpuparams.n_threads
        params.verbosity = 0  # llama.cpp's per-request logs would flood the server's log
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError as exc:  # xllamacpp's way of saying "could not load"
            raise LlamaEngineError(
                f"cannot load {model_path} as a GGUF model ({exc}): give the path of a chat "
                "model in GGUF format"
            ) from exc
        self._seed = seed
        self._closed = threading.Event()
        self.name = model_path.stem  # e.g. SmolLM2-135M-Instruct.Q4_1: model and quantisation
        self.context = context
        self.parallelism = parallel

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The OpenAI-style chat request llama.cpp's server core takes for `request`."""
        temperature = DEFAULT_TEMPERATURE if request.temperature is None else request.temperature
        body: dict[str, Any] = {
            "messages": request.chat_messages(),
            "stream": True,
            "stream_options": {"include_usage": True},
            "timings_per_token": True,
            "temperature": temperature,
            "top_p": DEFAULT_TOP_P if request.top_p is None else request.top_p,
            "top_k": request.top_k or 0,  # 0: no top-k cut in llama.cpp
            "seed": self._seed if self._seed is not None else random.getrandbits(31),
            **_NEUTRAL_SAMPLING,
        }
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        return body

    def generate(self, job: Job) -> Completion:
        job.check()
        stream = _Stream(job, StopScanner(job.request.stop_sequences))
        answer = self._server.handle_chat_completions(
            self.request_body(job.request), stream.on_chunk
        )
        if isinstance(answer, dict) and "error" in answer:  # refused before streaming began
            stream.on_chunk(answer)
        return stream.completion()

    def close(self) -> None:
        """Release the model (llama.cpp's server loop ends when its object goes)."""
        if not self._closed.is_set():
            self._closed.set()
            del self._server
