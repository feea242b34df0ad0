"""Forwarding to an OpenAI-compatible server: what is sent, how answers and errors map back.
The server is a small scripted HTTP server in a thread."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local_stage.model.chat import ChatRequest, Message
from local_stage.model.engine import Job
from local_stage.model.errors import BedrockError
from local_stage.model.openai_engine import OpenAICompatibleEngine


class FakeOpenAI:
    """Answers POST /v1/chat/completions with `self.reply` (status, JSON), recording bodies."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.reply: tuple[int, dict] = (200, {})
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                fake.received.append(json.loads(self.rfile.read(length)))
                fake.headers.append(dict(self.headers))
                time.sleep(fake.delay)
                status, body = fake.reply
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except BrokenPipeError:
                    pass  # the client gave up first (the timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.server.shutdown()


@pytest.fixture
def fake(fake_server: FakeOpenAI) -> FakeOpenAI:
    fake_server.received.clear()
    fake_server.headers.clear()
    fake_server.reply, fake_server.delay = (200, {}), 0.0
    return fake_server


def answer(text: str, finish: str = "stop", **choice) -> dict:
    return {
        "choices": [
            {"message": {"role": "assistant", "content": text}, "finish_reason": finish, **choice}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7},
    }


def chat(**settings) -> ChatRequest:
    return ChatRequest((Message("user", "write it"),), system="be brief", **settings)


def test_the_request_carries_the_conversation_and_only_the_settings_given(fake):
    fake.reply = (200, answer("x = 1"))
    engine = OpenAICompatibleEngine(fake.url, "qwen-coder", api_key="sk-test")
    texts: list[str] = []
    completion = engine.generate(
        Job(chat(max_tokens=50, top_k=3, stop_sequences=("END",)), on_text=texts.append)
    )
    assert fake.received == [
        {
            "model": "qwen-coder",
            "stream": False,
            "max_tokens": 50,
            "top_k": 3,
            "stop": ["END"],
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "write it"},
            ],
        }
    ]
    assert fake.headers[0]["Authorization"] == "Bearer sk-test"
    assert (completion.text, completion.stop_reason) == ("x = 1", "end_turn")
    assert (completion.input_tokens, completion.output_tokens) == (11, 7)
    assert texts == ["x = 1"]


@pytest.mark.parametrize(
    ("reply", "stops", "text", "reason", "matched"),
    [
        (answer("abc", "length"), (), "abc", "max_tokens", None),
        (answer("ab", "stop", stop_reason="END"), ("END",), "ab", "stop_sequence", "END"),
        (answer("ab END cd"), ("END",), "ab ", "stop_sequence", "END"),  # stop ignored upstream
        (answer("ab", "stop", stop_reason=128001), ("END",), "ab", "end_turn", None),
    ],
)
def test_finish_reasons_become_bedrock_stop_reasons(fake, reply, stops, text, reason, matched):
    fake.reply = (200, reply)
    engine = OpenAICompatibleEngine(fake.url + "/v1", "m")
    completion = engine.generate(Job(chat(stop_sequences=stops)))
    assert (completion.text, completion.stop_reason, completion.stop_sequence) == (
        text,
        reason,
        matched,
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "ThrottlingException"),
        (400, "ValidationException"),
        (401, "AccessDeniedException"),
        (404, "ResourceNotFoundException"),
        (500, "ModelErrorException"),
    ],
)
def test_upstream_errors_become_bedrock_errors_that_quote_the_upstream(fake, status, code):
    fake.reply = (status, {"error": {"message": "upstream says no"}})
    with pytest.raises(BedrockError) as caught:
        OpenAICompatibleEngine(fake.url, "m").generate(Job(chat()))
    assert caught.value.code == code
    assert "upstream says no" in caught.value.message and str(status) in caught.value.message


def test_an_unreachable_server_is_service_unavailable():
    engine = OpenAICompatibleEngine("http://127.0.0.1:9", "m")
    with pytest.raises(BedrockError) as caught:
        engine.generate(Job(chat()))
    assert (caught.value.code, caught.value.status) == ("ServiceUnavailableException", 503)


def test_a_slow_server_is_a_model_timeout(fake):
    fake.reply, fake.delay = (200, answer("late")), 1.0
    engine = OpenAICompatibleEngine(fake.url, "m", timeout_s=0.3)
    with pytest.raises(BedrockError) as caught:
        engine.generate(Job(chat()))
    assert (caught.value.code, caught.value.status) == ("ModelTimeoutException", 408)


def test_an_answer_without_choices_is_a_model_error(fake):
    fake.reply = (200, {"object": "error"})
    with pytest.raises(BedrockError) as caught:
        OpenAICompatibleEngine(fake.url, "m").generate(Job(chat()))
    assert caught.value.code == "ModelErrorException"
