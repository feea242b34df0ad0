"""What every backend receives and returns, whatever API the request came through."""

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["user", "assistant"]
StopReason = Literal["end_turn", "max_tokens", "stop_sequence"]


@dataclass(frozen=True)
class Message:
    role: Role
    text: str


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat: the settings are None when the caller did not set them."""

    messages: tuple[Message, ...]
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: tuple[str, ...] = ()

    def chat_messages(self) -> list[dict[str, str]]:
        """The conversation as role/content messages, the system prompt first (the shape chat
        templates and OpenAI-compatible servers take)."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        return messages + [{"role": m.role, "content": m.text} for m in self.messages]


@dataclass(frozen=True)
class Completion:
    text: str
    stop_reason: StopReason
    input_tokens: int
    output_tokens: int
    stop_sequence: str | None = None  # the one that ended the text, for stop_sequence


@dataclass
class StopScanner:
    """Ends a text at the first stop sequence, as it streams in.

    `feed` returns the text that is safe to emit: it holds back any tail that could still
    become a stop sequence, so a streamed answer never shows part of one.
    """

    stops: tuple[str, ...]
    matched: str | None = None
    _held: str = field(default="", repr=False)

    def feed(self, text: str) -> str:
        if self.matched is not None:
            return ""
        pending = self._held + text
        hit = self._first_stop(pending)
        if hit is not None:
            index, stop = hit
            self.matched, self._held = stop, ""
            return pending[:index]
        keep = self._possible_prefix(pending)
        self._held = pending[len(pending) - keep :] if keep else ""
        return pending[: len(pending) - keep]

    def flush(self) -> str:
        """The held-back tail, once the text has ended without a stop sequence."""
        held, self._held = self._held, ""
        return held

    def _first_stop(self, text: str) -> tuple[int, str] | None:
        found = [(text.find(stop), stop) for stop in self.stops if stop in text]
        return min(found) if found else None

    def _possible_prefix(self, text: str) -> int:
        """Length of the longest tail of `text` that begins some stop sequence."""
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest
