"""The model server's request parsing (Converse and Anthropic messages), stop sequences and
event stream framing, without a model."""

import json

import pytest
from botocore.eventstream import EventStreamBuffer

from local_stage.model import eventstream
from local_stage.model.anthropic import messages_response, parse_messages_body
from local_stage.model.chat import ChatRequest, Completion, Message, StopScanner
from local_stage.model.errors import BedrockError
from local_stage.model.protocol import converse_response, parse_converse


def user(text: str = "hi") -> dict:
    return {"role": "user", "content": [{"text": text}]}


def test_a_full_converse_request_is_read_with_every_setting():
    request = parse_converse(
        {
            "system": [{"text": "be brief"}, {"text": "use Go"}],
            "messages": [user("a"), {"role": "assistant", "content": [{"text": "b"}]}, user("c")],
            "inferenceConfig": {
                "maxTokens": 64,
                "temperature": 0.2,
                "topP": 0.9,
                "stopSequences": ["END", "\n\n"],
            },
            "additionalModelRequestFields": {"top_k": 40},
        }
    )
    assert request == ChatRequest(
        messages=(Message("user", "a"), Message("assistant", "b"), Message("user", "c")),
        system="be brief\nuse Go",
        max_tokens=64,
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        stop_sequences=("END", "\n\n"),
    )


def test_unset_settings_stay_unset():
    request = parse_converse({"messages": [user()]})
    assert (request.max_tokens, request.temperature, request.top_p, request.top_k) == (
        None,
        None,
        None,
        None,
    )
    assert request.stop_sequences == () and request.system is None


@pytest.mark.parametrize("kind", ["disabled", "adaptive"])
def test_claudes_thinking_switch_is_taken_and_changes_nothing(kind):
    """The stages send Claude's `thinking` with every call; the local model has no thinking to
    switch, and answers the same request."""
    body = {
        "messages": [user()],
        "additionalModelRequestFields": {"thinking": {"type": kind}, "top_k": 7},
    }
    assert parse_converse(body).top_k == 7


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "JSON object"),
        ({"messages": []}, "must start with a user message"),
        ({}, "must start with a user message"),
        ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "start with a user"),
        ({"messages": [user(), user()]}, "alternate"),
        (
            {"messages": [user(), {"role": "assistant", "content": [{"text": "x"}]}]},
            "end with a user",
        ),
        ({"messages": [{"role": "system", "content": [{"text": "x"}]}]}, "role"),
        ({"messages": [{"role": "user", "content": []}]}, "at least one content block"),
        ({"messages": [{"role": "user", "content": "text"}]}, "at least one content block"),
        ({"messages": [{"role": "user", "content": [{"image": {}}]}]}, "not image"),
        ({"messages": [user("   ")]}, "blank"),
        ({"messages": [user()], "extra": 1}, "Unknown field(s) in the request: extra"),
        ({"messages": [user()], "inferenceConfig": {"topK": 3}}, "inferenceConfig: topK"),
        ({"messages": [user()], "inferenceConfig": {"maxTokens": 0}}, "maxTokens: 0"),
        ({"messages": [user()], "inferenceConfig": {"maxTokens": 2.5}}, "must be an integer"),
        ({"messages": [user()], "inferenceConfig": {"maxTokens": True}}, "must be an integer"),
        ({"messages": [user()], "inferenceConfig": {"temperature": 1.5}}, "temperature: 1.5"),
        ({"messages": [user()], "inferenceConfig": {"temperature": -0.1}}, "out of range"),
        ({"messages": [user()], "inferenceConfig": {"topP": 2}}, "topP: 2"),
        ({"messages": [user()], "inferenceConfig": {"temperature": "hot"}}, "must be a number"),
        ({"messages": [user()], "inferenceConfig": {"stopSequences": [""]}}, "non-empty"),
        ({"messages": [user()], "inferenceConfig": {"stopSequences": "END"}}, "list"),
        ({"messages": [user()], "inferenceConfig": []}, "inferenceConfig: must be an object"),
        ({"messages": [user()], "additionalModelRequestFields": {"top_k": 501}}, "top_k: 501"),
        ({"messages": [user()], "additionalModelRequestFields": {"top_k": -1}}, "out of range"),
        (
            {"messages": [user()], "additionalModelRequestFields": {"min_p": 0.1}},
            "extraneous key [min_p]",
        ),
        (
            {"messages": [user()], "additionalModelRequestFields": {"thinking": "off"}},
            "thinking: must be an object",
        ),
        (
            {"messages": [user()], "additionalModelRequestFields": {"thinking": {"type": "no"}}},
            "thinking: must be an object",
        ),
        ({"messages": [user()], "toolConfig": {"tools": [{"toolSpec": {}}]}}, "tool use"),
        ({"messages": [user()], "system": "be brief"}, "system"),
    ],
)
def test_bad_converse_requests_get_validation_exceptions(body, fragment):
    with pytest.raises(BedrockError) as caught:
        parse_converse(body)
    assert (caught.value.code, caught.value.status) == ("ValidationException", 400)
    assert fragment in caught.value.message


def test_the_converse_response_has_every_field_boto3_requires():
    response = converse_response(Completion("x = 1", "max_tokens", 12, 3), 42, "Tiny.Q4")
    assert response["output"] == {"message": {"role": "assistant", "content": [{"text": "x = 1"}]}}
    assert response["stopReason"] == "max_tokens"
    assert response["usage"] == {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15}
    assert response["metrics"] == {"latencyMs": 42}
    assert response["additionalModelResponseFields"] == {"model": "Tiny.Q4"}


def test_an_anthropic_messages_body_is_read_like_claude_reads_it():
    request = parse_messages_body(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 100,
            "system": "be brief",
            "temperature": 0.5,
            "top_p": 0.8,
            "top_k": 5,
            "stop_sequences": ["\nHuman:"],
            "messages": [
                {"role": "user", "content": "hello"},
                {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
                {"role": "user", "content": [{"type": "text", "text": "more"}]},
            ],
        }
    )
    assert request.messages == (
        Message("user", "hello"),
        Message("assistant", "hi"),
        Message("user", "more"),
    )
    assert (request.system, request.max_tokens, request.top_k) == ("be brief", 100, 5)
    assert request.stop_sequences == ("\nHuman:",)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
            "required key [anthropic_version]",
        ),
        (
            {"anthropic_version": "v", "messages": [{"role": "user", "content": "x"}]},
            "required key [max_tokens]",
        ),
        ({"anthropic_version": "v", "max_tokens": 5, "messages": []}, "at least one message"),
        (
            {
                "anthropic_version": "v",
                "max_tokens": 5,
                "prompt": "x",
                "messages": [{"role": "user", "content": "x"}],
            },
            "extraneous key [prompt]",
        ),
        (
            {
                "anthropic_version": "v",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "image"}]}],
            },
            "only text",
        ),
        (
            {
                "anthropic_version": "v",
                "max_tokens": 0,
                "messages": [{"role": "user", "content": "x"}],
            },
            "max_tokens: 0",
        ),
    ],
)
def test_bad_anthropic_bodies_get_validation_exceptions(body, fragment):
    with pytest.raises(BedrockError) as caught:
        parse_messages_body(body)
    assert caught.value.code == "ValidationException" and fragment in caught.value.message


def test_the_anthropic_response_names_the_stop_sequence_and_the_model():
    response = messages_response(Completion("a", "stop_sequence", 3, 1, "\n\n"), "Tiny.Q4")
    assert response["type"] == "message" and response["role"] == "assistant"
    assert response["content"] == [{"type": "text", "text": "a"}]
    assert (response["stop_reason"], response["stop_sequence"]) == ("stop_sequence", "\n\n")
    assert response["usage"] == {"input_tokens": 3, "output_tokens": 1}
    assert response["model"] == "Tiny.Q4"


def feed_all(scanner: StopScanner, pieces: list[str]) -> str:
    out = "".join(scanner.feed(piece) for piece in pieces)
    return out + (scanner.flush() if scanner.matched is None else "")


@pytest.mark.parametrize(
    ("stops", "pieces", "text", "matched"),
    [
        ((), ["ab", "cd"], "abcd", None),
        (("END",), ["x = 1", "\nE", "N", "D more"], "x = 1\n", "END"),
        (("END",), ["x EN", "TRY"], "x ENTRY", None),  # a prefix that did not complete
        (("END",), ["E"], "E", None),  # held back, then flushed at the end
        (("b", "ab"), ["xab"], "x", "ab"),  # the one that begins first wins
        (("\n\n",), ["one\n", "\ntwo"], "one", "\n\n"),
        (("🙂",), ["smile 🙂 now"], "smile ", "🙂"),
    ],
)
def test_stop_sequences_end_the_text_without_showing_them(stops, pieces, text, matched):
    scanner = StopScanner(stops)
    assert feed_all(scanner, pieces) == text
    assert scanner.matched == matched


def test_a_streamed_text_never_shows_part_of_a_stop_sequence():
    scanner = StopScanner(("STOP",))
    emitted = [scanner.feed(piece) for piece in ["go S", "T", "O", "P after"]]
    assert emitted == ["go ", "", "", ""] and scanner.matched == "STOP"


def test_event_stream_messages_decode_with_botocore():
    data = eventstream.event(
        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "héllo"}}
    )
    data += eventstream.exception("throttlingException", {"message": "slow down"})
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    first, second = list(buffer)
    assert first.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(first.payload) == {"contentBlockIndex": 0, "delta": {"text": "héllo"}}
    assert second.headers[":message-type"] == "exception"
    assert second.headers[":exception-type"] == "throttlingException"
    assert json.loads(second.payload) == {"message": "slow down"}
