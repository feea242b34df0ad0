"""The local console's figures, in one run: its page weight, its time to first render against
a one-line page's in the same browser, and the feed's delay from a request's end to its row
on the page (goal: under 1 s) against the request's own time.

    python bench/console.py

Starts its own local stage (own state directory) with the local model, deploys the real
function through the real Terraform (routes open), drives the system's Chromium (headless,
with its chromedriver; Debian: `apt install chromium chromium-driver`) and stops it all at
the end. The request is sent by the console's own page (same origin), so one clock, the
browser's, times both the request and the row that shows it.
"""

import http.server
import statistics
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import bench_stage, deploy_open_stage, print_table, record

from local_stage.contract import CONSOLE_PATH, TOKEN_HEADER
from tests.support.browser import MISSING, browser_paths, headless_chromium

RENDERS = 5
REQUESTS = 5
FEED_GOAL_MS = 1000.0
MINIMAL_PAGE = b"<!doctype html><title>x</title><p>x</p>"
# The console's own files, as the page loads them.
PAGE_FILES = ("", "console.js", "console.css", "highlight.css")

FIRST_PAINT = """
const paint = performance.getEntriesByName("first-contentful-paint")[0];
return paint ? paint.startTime : null;
"""
# Send one request from the page, then wait for its row in the feed: [request ms, row ms].
REQUEST_TO_ROW = """
const [url, done] = [arguments[0], arguments[arguments.length - 1]];
const started = performance.now();
fetch(url, {method: "PUT", headers: {"content-type": "application/json"},
            body: JSON.stringify({message: "a function add(a, b)", key: "python",
                                  max_tokens: 16})})
  .then(async (answer) => {
    await answer.text();
    const ended = performance.now();
    const id = answer.headers.get("apigw-requestid");
    const found = () => document.querySelector(`#feed tr[data-request-id="${id}"]`);
    if (found()) return done([ended - started, performance.now() - ended]);
    new MutationObserver((_, observer) => {
      if (found()) { observer.disconnect(); done([ended - started, performance.now() - ended]); }
    }).observe(document.getElementById("feed"), {childList: true, subtree: true});
  })
  .catch((error) => done(String(error)));
"""


@contextmanager
def chromium() -> Iterator[Any]:
    paths = browser_paths()
    if paths is None:
        sys.exit(MISSING)
    with headless_chromium(paths) as driver:
        driver.set_script_timeout(120)
        yield driver


def page_bytes(gateway_url: str, token: str) -> int:
    total = 0
    for name in PAGE_FILES:
        request = urllib.request.Request(
            f"{gateway_url}{CONSOLE_PATH}{name}", headers={TOKEN_HEADER: token}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            total += len(answer.read())
    return total


@contextmanager
def minimal_page() -> Iterator[str]:
    """A one-line page over HTTP on 127.0.0.1: the first render's baseline."""

    class OneLine(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(MINIMAL_PAGE)))
            self.end_headers()
            self.wfile.write(MINIMAL_PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OneLine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def first_render_ms(driver: Any, url: str) -> float:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get(url)
    # The paint entry is written a moment after the load that get() waits for.
    return float(WebDriverWait(driver, 10, 0.05).until(lambda d: d.execute_script(FIRST_PAINT)))


def wait_live(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30, poll_frequency=0.05).until(
        lambda d: d.find_element("id", "connection").text == "live"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-console-") as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            api_url = deploy_open_stage(root, state)[0].generation_url
            weight = page_bytes(state.gateway_url, state.token)
            with chromium() as driver, minimal_page() as baseline_url:
                minimal = [first_render_ms(driver, baseline_url) for _ in range(RENDERS)]
                console = [first_render_ms(driver, state.console_url) for _ in range(RENDERS)]
                wait_live(driver)
                timings = []
                for _ in range(REQUESTS):
                    result = driver.execute_async_script(REQUEST_TO_ROW, api_url)
                    if isinstance(result, str):
                        sys.exit(f"the page's request failed: {result}")
                    timings.append(result)
    request_ms = statistics.median(t[0] for t in timings)
    feed_ms = statistics.median(t[1] for t in timings)
    feed_worst = max(t[1] for t in timings)
    minimal_ms, console_ms = statistics.median(minimal), statistics.median(console)
    print_table(
        "Local console",
        [
            ("page weight (HTML, JS, CSS)", f"{weight / 1024:.1f} KiB"),
            ("first render, one-line page", f"{minimal_ms:.0f} ms (median of {RENDERS})"),
            (
                "first render, console",
                f"{console_ms:.0f} ms ({console_ms / minimal_ms:.2f}x the one-line page)",
            ),
            ("request, sent by the page", f"{request_ms:.0f} ms (median of {REQUESTS})"),
            (
                "feed: request end to its row",
                f"{feed_ms:.0f} ms median, {feed_worst:.0f} ms worst "
                f"({feed_ms / request_ms:.2f}x the request; goal under {FEED_GOAL_MS:.0f} ms)",
            ),
        ],
    )
    record("page weight", weight, "bytes")
    record(
        "first render",
        console_ms / 1000,
        "s",
        baseline=minimal_ms / 1000,
        baseline_name="a one-line page's first render",
    )
    record(
        "feed delay, request end to row",
        feed_ms / 1000,
        "s",
        baseline=request_ms / 1000,
        baseline_name="the request itself",
    )
    if feed_worst >= FEED_GOAL_MS:
        sys.exit(f"the feed's row came {feed_worst:.0f} ms after a request: goal under 1 s")


if __name__ == "__main__":
    main()
