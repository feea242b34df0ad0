"""A GGUF model run in this process by llama.cpp (llama-cpp-python): loaded once, one
generation at a time (a llama.cpp context is not safe to share between threads).

Token by token, so that the counts are exact and every stop reason is real: the model's
end-of-turn token (end_turn), the token budget (max_tokens), or a stop sequence
(stop_sequence, the sequence itself left out of the text, as Bedrock does).
"""

import codecs
import os
import random
from pathlib import Path
from typing import Any

from local_stage.model.chat import ChatRequest, Completion, StopReason, StopScanner
from local_stage.model.engine import Job
from local_stage.model.errors import validation

DEFAULT_CONTEXT = 4096
# Claude's defaults for settings a request leaves unset (top_k unset = no top-k cut).
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 1.0
# For models whose GGUF carries no chat template: ChatML, the most common convention.
_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class LlamaEngineError(Exception):
    """The model cannot be loaded; the message says what to install or fix."""


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise LlamaEngineError(
            "llama-cpp-python is not installed: run `bash scripts/setup.sh` (it builds it for "
            "this CPU once and caches the wheel), or start the local stage with an "
            "OpenAI-compatible server instead (invoke local.up --openai-url URL)"
        ) from exc
    return llama_cpp


class LlamaEngine:
    kind = "gguf"
    parallelism = 1

    def __init__(self, model_path: Path, *, context: int = DEFAULT_CONTEXT,
                 threads: int | None = None, seed: int | None = None) -> None:  # fmt: skip
        if not model_path.is_file():
            raise LlamaEngineError(f"model file not found: {model_path}")
        llama_cpp = _import_llama()
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(model_path), n_ctx=context, n_threads=threads or os.cpu_count(),
                verbose=False,
            )  # fmt: skip
        except ValueError as exc:  # llama-cpp-python's way of saying "could not load"
            raise LlamaEngineError(f"cannot load {model_path} as a GGUF model: {exc}") from exc
        self._lib = llama_cpp
        self._seed = seed
        self._formatter = self._chat_formatter(llama_cpp)
        self.name = model_path.stem  # e.g. SmolLM2-135M-Instruct.Q4_1: model and quantisation
        self.context = self._llama.n_ctx()

    def _chat_formatter(self, llama_cpp: Any) -> Any:
        model = self._llama._model
        eos, bos = self._llama.token_eos(), self._llama.token_bos()
        template = self._llama.metadata.get("tokenizer.chat_template") or _CHATML
        return llama_cpp.llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )

    def prompt_tokens(self, request: ChatRequest) -> list[int]:
        """The conversation in the model's chat template, tokenized."""
        formatted = self._formatter(messages=request.chat_messages())
        return self._llama.tokenize(formatted.prompt.encode("utf-8"),
                                    add_bos=not formatted.added_special, special=True)  # fmt: skip

    def generate(self, job: Job) -> Completion:
        request = job.request
        prompt = self.prompt_tokens(request)
        room = self.context - len(prompt)
        if room < 1:
            raise validation(f"Input is too long for requested model: {len(prompt)} tokens, "
                             f"and the local model's context holds {self.context}.")  # fmt: skip
        budget = min(request.max_tokens or room, room)
        temperature = DEFAULT_TEMPERATURE if request.temperature is None else request.temperature
        self._llama.set_seed(self._seed if self._seed is not None else random.getrandbits(31))
        scanner = StopScanner(request.stop_sequences)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces: list[str] = []
        generated = 0
        reason: StopReason = "max_tokens"
        job.check()
        tokens = self._llama.generate(
            prompt, temp=temperature,
            top_p=DEFAULT_TOP_P if request.top_p is None else request.top_p,
            top_k=request.top_k or 0,  # 0: no top-k cut in llama.cpp
            min_p=0.0, typical_p=1.0, repeat_penalty=1.0,  # only what the request asks for
        )  # fmt: skip
        for token in tokens:
            if self._lib.llama_vocab_is_eog(self._llama._model.vocab, token):
                reason = "end_turn"
                break
            generated += 1
            text = scanner.feed(decoder.decode(self._llama.detokenize([token])))
            if text:
                pieces.append(text)
                job.on_text(text)
            if scanner.matched is not None:
                reason = "stop_sequence"
                break
            if generated >= budget:
                break
            job.check()
        if scanner.matched is None:
            tail = scanner.feed(decoder.decode(b"", final=True)) + scanner.flush()
            if tail:
                pieces.append(tail)
                job.on_text(tail)
            if scanner.matched is not None:
                reason = "stop_sequence"
        return Completion("".join(pieces), reason, len(prompt), generated, scanner.matched)

    def close(self) -> None:
        self._llama.close()
