"""The console's pieces that need no stack: the feed (long poll, rows, tokens), the stage's
route paths, the highlighter."""

import asyncio
import json

import pytest

from local_stage.console.feed import RequestFeed
from local_stage.console.highlight import as_html
from local_stage.console.resources import ConsoleError, Stage, StageResources
from local_stage.control_plane import Api, Route
from local_stage.control_plane import Stage as ApiStage
from local_stage.gateway.served import Served


def record(feed: RequestFeed, request_id: str, answer: object, status: int = 200):
    return feed.record(
        Served(
            method="PUT",
            path="/local/code-generation",
            route_key="PUT /code-generation",
            status=status,
            latency_ms=12.34,
            request_id=request_id,
            request_body=b'{"message": "x", "key": "python"}',
            response_body=json.dumps(answer).encode(),
            response_type="application/json",
            location=None,
        )
    )


def test_a_reader_waiting_for_the_next_row_gets_it_as_soon_as_it_is_recorded():
    async def scenario() -> tuple[list[str], float]:
        feed = RequestFeed()
        await record(feed, "first", {"usage": {"output_tokens": 7}})
        loop = asyncio.get_running_loop()
        waiting = asyncio.ensure_future(feed.after(1, wait_s=10))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        started = loop.time()
        await record(feed, "second", {"message": "Too Many Requests"}, status=429)
        rows = await waiting
        return [row.request_id for row in rows], loop.time() - started

    ids, waited = asyncio.run(scenario())
    assert ids == ["second"] and waited < 0.5


def test_rows_carry_the_models_tokens_and_the_feed_keeps_the_newest():
    async def scenario() -> RequestFeed:
        feed = RequestFeed(max_entries=3)
        for n in range(5):
            await record(feed, f"r{n}", {"code": "x", "usage": {"output_tokens": n}})
        await record(feed, "not-json", "oops")
        return feed

    feed = asyncio.run(scenario())
    rows = asyncio.run(feed.after(0, wait_s=0))
    assert [row.request_id for row in rows] == ["r3", "r4", "not-json"]
    assert [row.output_tokens for row in rows] == [3, 4, None]
    assert "request_body" not in rows[0].summary() and rows[0].latency_ms == 12.3
    assert feed.find("r4").answer() == {"code": "x", "usage": {"output_tokens": 4}}
    assert feed.find("r0") is None
    assert asyncio.run(feed.after(6, wait_s=0.05)) == []


def test_the_stages_paths_come_from_the_deployed_routes():
    routes = {"PUT": "/code-generation", "GET": "/code-generation/jobs/{job_id}"}
    stage = Stage("api", "local", ("f",), "bucket", "table", "queue", routes)
    assert stage.path("PUT") == "/local/code-generation"
    assert stage.path("GET", "abc") == "/local/code-generation/jobs/abc"
    with pytest.raises(ConsoleError, match="no POST route"):
        stage.path("POST")
    default = Stage("api", "$default", ("f",), None, None, None, routes)
    assert default.path("PUT") == "/code-generation"


class TwoApis:
    """A control plane whose emulator holds two APIs, stages `local` and `local-long` (and a
    third with a second stage `local`, when `twin`)."""

    def __init__(self, twin: bool = False) -> None:
        self.twin = twin

    def apis(self) -> dict[str, Api]:
        def api(api_id: str, stage: str, path: str) -> Api:
            routes = [Route(f"PUT {path}", "AWS_IAM", None)]
            return Api(api_id, api_id, routes, {stage: ApiStage(stage, None, None, {}, {})})

        apis = {"a1": api("a1", "local", "/one"), "b2": api("b2", "local-long", "/two")}
        if self.twin:
            apis["c3"] = api("c3", "local", "/three")
        return apis

    def function(self, name: str) -> None:
        return None

    def sqs_mappings(self, default_concurrency: int) -> frozenset:
        return frozenset()


def test_the_console_shows_the_stage_its_page_names_or_else_the_first():
    resources = StageResources(TwoApis())
    assert resources.stage().path("PUT") == "/local/one"
    assert resources.stage("local-long").path("PUT") == "/local-long/two"
    assert resources.stage("local-long").api_id == "b2"
    with pytest.raises(ConsoleError, match=r"no deployed API has a stage 'dev'.*local, local-long"):
        resources.stage("dev")
    # Two APIs with one stage name: neither is shown (the gateway answers neither, too).
    with pytest.raises(ConsoleError, match=r"2 deployed APIs have a stage 'local'"):
        StageResources(TwoApis(twin=True)).stage("local")


def test_code_is_highlighted_by_language_or_extension_and_always_escaped():
    python = as_html("def f():\n    return '<b>'\n", "python", "a.py")
    assert 'class="hl"' in python and "<b>" not in python and "&lt;b&gt;" in python
    by_extension = as_html("fn main() {}\n", None, "code-output/x.rs")
    assert 'class="hl"' in by_extension and "main" in by_extension
    plain = as_html("<script>alert(1)</script>", "no-such-language", "x.unknown")
    assert "<script>" not in plain and "&lt;script&gt;" in plain
