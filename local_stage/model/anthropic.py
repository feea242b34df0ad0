"""InvokeModel with the Anthropic messages body (what Claude models take on Bedrock).

Request: {"anthropic_version", "max_tokens", "messages", "system", "temperature", "top_p",
"top_k", "stop_sequences"}; response: a `message` object with content, stop_reason and usage.
"""

import uuid
from typing import Any

from local_stage.model.chat import ChatRequest, Completion, Message
from local_stage.model.errors import validation
from local_stage.model.protocol import (
    TEMPERATURE_RANGE,
    TOP_K_RANGE,
    TOP_P_RANGE,
    check_thinking,
    check_turns,
    integer,
    message_role,
    number,
    reject_extraneous,
    stop_sequences,
)

_FIELDS = {
    "anthropic_version",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "anthropic_beta",
    "thinking",
}


def parse_messages_body(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise validation(
            "Malformed input request: expected a JSON object, please reformat "
            "your input and try again."
        )
    reject_extraneous(body, _FIELDS)
    check_thinking(body.get("thinking"))
    for key in ("anthropic_version", "max_tokens", "messages"):
        if key not in body:
            raise validation(
                f"Malformed input request: #: required key [{key}] not found, "
                "please reformat your input and try again."
            )
    return ChatRequest(
        messages=_messages(body["messages"]),
        system=_system(body.get("system")),
        max_tokens=integer(body, "max_tokens", 1, None),
        temperature=number(body, "temperature", *TEMPERATURE_RANGE),
        top_p=number(body, "top_p", *TOP_P_RANGE),
        top_k=integer(body, "top_k", *TOP_K_RANGE),
        stop_sequences=stop_sequences(body.get("stop_sequences"), "stop_sequences"),
    )


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise validation(f"{where}: must be a string or a non-empty list of content blocks.")
    texts = []
    for block in content:
        if (
            not isinstance(block, dict)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise validation(f"{where}: this model supports only text content blocks.")
        texts.append(block["text"])
    return "".join(texts)


def _messages(value: Any) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise validation("messages: at least one message is required.")
    messages = []
    for index, message in enumerate(value):
        role = message_role(message, index)
        messages.append(Message(role, _text(message.get("content"), f"messages.{index}.content")))
    check_turns(messages)
    return tuple(messages)


def _system(value: Any) -> str | None:
    if value is None:
        return None
    return _text(value, "system") or None


def messages_response(completion: Completion, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_local_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": completion.text}],
        "stop_reason": completion.stop_reason,
        "stop_sequence": completion.stop_sequence,
        "usage": {
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
        },
    }
