"""The Converse API as bedrock-runtime speaks it: request validation with Bedrock's error
codes and messages, and the response documents boto3 parses as it parses AWS's."""

import itertools
import math
from typing import Any

from local_stage.model.chat import ChatRequest, Completion, Message, Role
from local_stage.model.errors import validation

MAX_STOP_SEQUENCES = 2500  # Converse's own limit on inferenceConfig.stopSequences
TEMPERATURE_RANGE = (0.0, 1.0)
TOP_P_RANGE = (0.0, 1.0)
TOP_K_RANGE = (0, 500)
_TOP_LEVEL = {
    "messages",
    "system",
    "inferenceConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "performanceConfig",
    "toolConfig",
    "guardrailConfig",
    "promptVariables",
}
_UNSUPPORTED = {
    "toolConfig": "tool use",
    "guardrailConfig": "guardrails",
    "promptVariables": "prompt management variables",
}
_INFERENCE = {"maxTokens", "temperature", "topP", "stopSequences"}
_ADDITIONAL = {"top_k", "thinking"}
# Claude's thinking switch: the local model never thinks, so every valid setting answers alike.
_THINKING_TYPES = {"disabled", "enabled", "adaptive"}
_FIRST_USER = (
    "A conversation must start with a user message. Try again with a conversation "
    "that starts with a user message."
)
_ALTERNATE = (
    "A conversation must alternate between user and assistant roles. Make sure the "
    "conversation alternates between user and assistant roles and try again."
)


def parse_converse(body: Any) -> ChatRequest:
    """The Converse request body -> ChatRequest, or a ValidationException like Bedrock's."""
    if not isinstance(body, dict):
        raise validation("The request body must be a JSON object.")
    unknown = sorted(set(body) - _TOP_LEVEL)
    if unknown:
        raise validation(f"Unknown field(s) in the request: {', '.join(unknown)}.")
    for name, feature in _UNSUPPORTED.items():
        if body.get(name):
            raise validation(f"This model doesn't support {feature} ({name}).")
    inference = _object(body, "inferenceConfig")
    unknown = sorted(set(inference) - _INFERENCE)
    if unknown:
        raise validation(f"Unknown field(s) in inferenceConfig: {', '.join(unknown)}.")
    additional = _object(body, "additionalModelRequestFields")
    reject_extraneous(additional, _ADDITIONAL)
    check_thinking(additional.get("thinking"))
    return ChatRequest(
        messages=converse_messages(body.get("messages")),
        system=_system(body.get("system")),
        max_tokens=integer(inference, "maxTokens", 1, None),
        temperature=number(inference, "temperature", *TEMPERATURE_RANGE),
        top_p=number(inference, "topP", *TOP_P_RANGE),
        top_k=integer(additional, "top_k", *TOP_K_RANGE),
        stop_sequences=stop_sequences(inference.get("stopSequences"), "stopSequences"),
    )


def check_thinking(value: Any) -> None:
    """Claude's `thinking` field, as Bedrock's Anthropic models check it: an object whose
    `type` is disabled, enabled or adaptive. The local model does not think either way."""
    if value is None:
        return
    if not isinstance(value, dict) or value.get("type") not in _THINKING_TYPES:
        raise validation(
            "thinking: must be an object whose type is one of "
            f"{', '.join(sorted(_THINKING_TYPES))}."
        )


def converse_messages(value: Any) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise validation(_FIRST_USER)
    messages = []
    for index, message in enumerate(value):
        role = message_role(message, index)
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise validation(f"messages.{index}.content: must hold at least one content block.")
        texts = []
        for block_index, block in enumerate(content):
            if not isinstance(block, dict) or not isinstance(block.get("text"), str):
                kind = next(iter(block), "unknown") if isinstance(block, dict) and block else ""
                raise validation(
                    f"messages.{index}.content.{block_index}: this model supports only text "
                    f"content blocks, not {kind or 'this'}."
                )
            texts.append(block["text"])
        messages.append(Message(role, "".join(texts)))
    check_turns(messages)
    return tuple(messages)


def reject_extraneous(fields: dict[str, Any], allowed: set[str]) -> None:
    """Bedrock's answer (as the Anthropic models word it) to a field the model does not take."""
    extraneous = sorted(set(fields) - allowed)
    if extraneous:
        raise validation(
            f"Malformed input request: extraneous key [{extraneous[0]}] is not "
            "permitted, please reformat your input and try again."
        )


def message_role(message: Any, index: int) -> Role:
    """The role of `messages[index]`, which must be an object with role user or assistant."""
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise validation(f"messages.{index}.role: must be 'user' or 'assistant'.")
    return message["role"]


def check_turns(messages: list[Message]) -> None:
    """Bedrock's rules for a conversation: starts with user, alternates, ends with user."""
    if messages[0].role != "user":
        raise validation(_FIRST_USER)
    if any(a.role == b.role for a, b in itertools.pairwise(messages)):
        raise validation(_ALTERNATE)
    if messages[-1].role != "user":
        raise validation(
            "A conversation must end with a user message. Try again with a "
            "conversation that ends with a user message."
        )
    if not any(message.text.strip() for message in messages):
        raise validation(
            "The text field in the ContentBlock object is blank. Add text to the "
            "text field, and try again."
        )


def _system(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(block, dict) and isinstance(block.get("text"), str) for block in value
    ):
        raise validation("system: must be a list of text blocks.")
    return "\n".join(block["text"] for block in value) or None


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation(f"{name}: must be an object.")
    return value


def number(data: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise validation(f"{name}: must be a number.")
    if not low <= value <= high:
        raise validation(f"{name}: {value} is out of range: it must be from {low:g} to {high:g}.")
    return float(value)


def integer(data: dict[str, Any], name: str, low: int, high: int | None) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation(f"{name}: must be an integer.")
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise validation(f"{name}: {value} is out of range: it must be {bound}.")
    return value


def stop_sequences(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise validation(f"{name}: must be a list of non-empty strings.")
    if len(value) > MAX_STOP_SEQUENCES:
        raise validation(f"{name}: at most {MAX_STOP_SEQUENCES} items are allowed.")
    return tuple(value)


def converse_response(completion: Completion, latency_ms: int, model: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": completion.text}]}},
        "stopReason": completion.stop_reason,
        "usage": usage(completion),
        "metrics": {"latencyMs": latency_ms},
        "additionalModelResponseFields": {"model": model},
    }


def usage(completion: Completion) -> dict[str, int]:
    return {
        "inputTokens": completion.input_tokens,
        "outputTokens": completion.output_tokens,
        "totalTokens": completion.input_tokens + completion.output_tokens,
    }
