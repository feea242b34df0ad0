"""The local console, in a real browser (the system's Chromium, driven by Selenium with the
system's chromedriver; nothing is downloaded), on the shared local stack; and the guard in
front of every /_local/ path, over plain HTTP.

Where no Chromium is installed (a laptop) the browser tests say so and skip; under CI they
fail instead, since .ci/run installs it.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.paths import BUILD_DIR, REPO_ROOT
from local_stage.console.app import PAGE_HEADERS
from local_stage.contract import CONSOLE_PATH, TOKEN_HEADER
from tests.e2e.helpers import (
    LONG,
    LONG_JOB_DEADLINE_S,
    LONG_SCRIPT,
    emulator_client,
    scripted,
    wait_for,
)
from tests.e2e.variants import LONG_JOBS
from tests.support.browser import (
    FIREFOX_MISSING,
    MISSING,
    browser_paths,
    firefox_path,
    headless_chromium,
    headless_firefox,
)
from tests.system_packages import require

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
    pytest.mark.variants(LONG_JOBS),
]
SCREENSHOT = BUILD_DIR / "console.png"
# The page is under test, not the model: "try it" gets this answer (the model's own varies
# with what else the model server batches, and once was prose).
ADD_SCRIPT = {"text": "def add(a, b):\n    return a + b\n", "tokens_per_s": 1000}


@pytest.fixture(scope="module")
def browser() -> Iterator["object"]:
    paths = browser_paths()
    require(MISSING if paths is None else None, "Chromium with chromedriver")
    assert paths is not None
    with headless_chromium(paths, console_log=True) as driver:
        driver.implicitly_wait(0)
        yield driver


@pytest.fixture
def console(local_stage, browser):
    browser.get(console_url(local_stage))
    wait_until(browser, lambda: text(browser, "connection") == "live", "the feed to go live")
    return browser


def console_url(local_stage) -> str:
    """The console's page of the LONG variant's stage (the stack holds several)."""
    return f"{local_stage.state.console_url}&stage={local_stage.on(LONG_JOBS).stage}"


def wait_until(browser, condition, what: str, timeout_s: float = 120.0) -> None:
    wait_for(lambda: _quietly(condition), timeout_s, what, interval_s=0.1)


def _quietly(condition) -> bool:
    from selenium.common.exceptions import WebDriverException

    try:
        return bool(condition())
    except WebDriverException:
        return False


def text(browser, element_id: str) -> str:
    return browser.find_element("id", element_id).text


def console_errors(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_try_it_shows_the_code_and_the_request_appears_with_its_log_lines(console, local_stage):
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "tab-try").click()
    message = console.find_element(By.ID, "try-message")
    message.clear()
    message.send_keys("a function add(a, b) that returns the sum of a and b")
    console.find_element(By.ID, "try-max-tokens").send_keys("64")
    with scripted(local_stage, ADD_SCRIPT):
        console.find_element(By.ID, "try-send").click()
        wait_until(console, lambda: console.find_elements(By.CSS_SELECTOR, "#try-code .hl"), "code")
    code = console.find_element(By.CSS_SELECTOR, "#try-code .hl").text
    assert code.strip() == ADD_SCRIPT["text"].strip() and "syntax" in text(console, "try-status")
    request_id = text(console, "try-status").split("request ")[1].split(":")[0]

    console.find_element(By.ID, "tab-requests").click()
    row = f'#feed tr[data-request-id="{request_id}"]'
    wait_until(console, lambda: console.find_elements(By.CSS_SELECTOR, row), "the feed's row", 5)
    cells = [cell.text for cell in console.find_elements(By.CSS_SELECTOR, f"{row} td")]
    assert cells[1:4] == ["PUT", "PUT /code-generation", "200"], cells
    console.find_element(By.CSS_SELECTOR, row).click()

    def logged() -> bool:
        lines = text(console, "detail-logs")
        if "no log line yet" in lines:
            console.find_element(By.CSS_SELECTOR, row).click()  # as the page says to
            return False
        return request_id in lines and "REPORT RequestId" in lines

    wait_until(console, logged, "the request's log lines", 30)
    assert local_stage.on(LONG_JOBS).function_name in text(console, "detail-logs")
    stored = console.find_element(By.CSS_SELECTOR, "#detail-object .hl").text
    assert stored.strip() == code.strip()
    download = console.find_element(By.CSS_SELECTOR, "#detail-object a[download]")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(download.get_attribute("href")).query)
    assert query["download"] == ["1"] and query["token"] == [local_stage.state.token]
    assert query["stage"] == [local_stage.on(LONG_JOBS).stage]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    console.save_screenshot(str(SCREENSHOT))
    assert console_errors(console) == []


def test_a_jobs_progress_shows_until_it_succeeds(console, local_stage):
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "tab-try").click()
    message = console.find_element(By.ID, "try-message")
    message.clear()
    message.send_keys(LONG["message"])
    console.find_element(By.ID, "try-max-tokens").send_keys(str(LONG["max_tokens"]))
    console.find_element(By.ID, "try-temperature").send_keys("0")
    console.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="job"]').click()
    seen: list[str] = []
    with scripted(local_stage, LONG_SCRIPT):  # 20 s of writing, on any machine
        console.find_element(By.ID, "try-send").click()
        deadline = time.monotonic() + LONG_JOB_DEADLINE_S
        while time.monotonic() < deadline:
            status = text(console, "try-status")
            if not seen or seen[-1] != status:
                seen.append(status)
            if "succeeded" in status or "failed" in status:
                break
            time.sleep(0.2)
    assert "succeeded" in seen[-1], seen
    assert any("tokens so far" in status for status in seen), seen
    assert console.find_element(By.CSS_SELECTOR, "#try-code .hl").text.strip()
    console.find_element(By.ID, "tab-jobs").click()
    job_id = seen[-1].split()[1].rstrip(":")
    wait_until(console, lambda: job_id in text(console, "jobs"), "the job in the jobs table", 10)
    assert console_errors(console) == []


def test_a_dead_lettered_message_is_sent_back_to_the_queue(console, local_stage):
    from selenium.webdriver.common.by import By

    sqs = emulator_client(local_stage.state.emulator_url, "sqs")
    outputs = local_stage.on(LONG_JOBS).outputs
    dlq_url = sqs.get_queue_url(QueueName=outputs["jobs_dead_letter_queue_name"])["QueueUrl"]
    body = json.dumps({"job_id": "00000000-0000-4000-8000-000000000000", "note": "console"})
    message_id = sqs.send_message(QueueUrl=dlq_url, MessageBody=body)["MessageId"]

    console.find_element(By.ID, "tab-jobs").click()
    button = f'#dead-letters tr[data-message-id="{message_id}"] button'
    wait_until(console, lambda: console.find_elements(By.CSS_SELECTOR, button), "the message", 10)
    console.find_element(By.CSS_SELECTOR, button).click()
    wait_until(
        console,
        lambda: console.find_element(By.CSS_SELECTOR, button).text.startswith("sent back"),
        "the message sent back",
        10,
    )

    def in_dead_letters() -> set[str]:
        answer = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        )
        return {m["MessageId"] for m in answer.get("Messages", [])}

    # Sent to the job queue (whose poller takes it from there), gone from the dead letters.
    assert message_id not in in_dead_letters()
    assert console_errors(console) == []


@pytest.fixture(scope="module")
def firefox() -> Iterator["object"]:
    path = firefox_path()
    require(FIREFOX_MISSING if path is None else None, "Firefox")
    assert path is not None
    with headless_firefox(path) as driven:
        yield driven


def test_firefox_runs_the_console_too_feed_and_try_it_with_no_console_error(local_stage, firefox):
    """The page uses no browser-specific API: Gecko runs it as Chromium does (the feed goes
    live, "try it" sends a request and shows its code, the request appears in the feed)."""
    firefox.navigate(console_url(local_stage))

    def until(expression: str, what: str, timeout_s: float = 60.0):
        """The expression's value, once it is truthy."""
        seen = {}

        def holds() -> bool:
            seen["value"] = firefox.evaluate(expression)
            return bool(seen["value"])

        wait_for(holds, timeout_s, what, interval_s=0.2)
        return seen["value"]

    until("document.getElementById('connection').textContent === 'live'", "the feed to go live")
    assert "Mozilla" in firefox.evaluate("navigator.userAgent")
    with scripted(local_stage, ADD_SCRIPT):
        firefox.evaluate(
            """
            document.getElementById("tab-try").click();
            document.getElementById("try-message").value = "a function add(a, b)";
            document.getElementById("try-max-tokens").value = "48";
            document.getElementById("try-send").click();
            """
        )
        code = until("document.querySelector('#try-code .hl')?.textContent", "the code", 120)
    assert code.strip() == ADD_SCRIPT["text"].strip()
    status = firefox.evaluate("document.getElementById('try-status').textContent")
    assert "syntax" in status, status
    request_id = status.split("request ")[1].split(":")[0]
    row = f'#feed tr[data-request-id="{request_id}"]'
    until(f"!!document.querySelector('{row}')", "the request's row in the feed", 10)
    assert firefox.errors() == []


def test_a_page_of_another_origin_is_granted_nothing_by_the_emulator_or_the_console(
    local_stage, browser
):
    """From a page that is not the console's (here: about:blank, a `null` origin), the
    browser itself refuses to hand over the emulator's or the console's answers."""
    browser.get("about:blank")
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {headers: arguments[1]})
          .then((answer) => answer.text().then((text) => done("read: " + answer.status)))
          .catch((error) => done("refused: " + error));
    """
    emulator = browser.execute_async_script(
        script, f"{local_stage.state.emulator_url}/?Action=ListQueues", {}
    )
    assert emulator.startswith("refused"), emulator
    api = f"{local_stage.state.gateway_url}{CONSOLE_PATH}api/health"
    stolen = browser.execute_async_script(script, api, {TOKEN_HEADER: local_stage.state.token})
    assert stolen.startswith("refused"), stolen


# -- the guard, over plain HTTP ------------------------------------------------------------------
def fetch(url: str, method: str = "GET", data: bytes | None = None, **headers: str):
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_every_local_path_needs_the_token_a_loopback_host_and_no_foreign_origin(local_stage):
    state = local_stage.state
    page = f"{state.gateway_url}{CONSOLE_PATH}"
    status, headers, _ = fetch(state.console_url)
    assert status == 200
    # No inline script, never framed, and the token in the URL never sent on as a referrer.
    for name, value in PAGE_HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert fetch(page)[0] == 403
    assert fetch(f"{page}?token=wrong")[0] == 403
    assert fetch(f"{page}api/health", **{TOKEN_HEADER: state.token})[0] == 200
    assert fetch(state.console_url, Origin="http://evil.example")[0] == 403
    assert fetch(state.console_url, Host="evil.example")[0] == 403  # DNS rebinding
    for server in (state.emulator_url, state.gateway_url, state.model_url):
        assert fetch(f"{server}/_local/health")[0] == 403, server
        assert fetch(f"{server}/_local/health", **{TOKEN_HEADER: state.token})[0] == 200, server
    # The faults endpoints take JSON only: a browser's "simple" cross-origin POST is refused.
    rule = json.dumps({"path": "/nothing/*", "times": 1}).encode()
    for server in (state.emulator_url, state.model_url):
        status, _, _ = fetch(
            f"{server}/_local/faults",
            "POST",
            rule,
            **{TOKEN_HEADER: state.token, "Content-Type": "text/plain"},
        )
        assert status == 415, server
    # The console's POSTs too.
    status, _, _ = fetch(
        f"{page}api/try", "POST", b'{"message": "x"}', **{TOKEN_HEADER: state.token}
    )
    assert status == 415


def test_the_emulator_grants_no_cross_origin_request(local_stage):
    status, headers, _ = fetch(
        f"{local_stage.state.emulator_url}/",
        "OPTIONS",
        Origin="http://evil.example",
        **{"Access-Control-Request-Method": "GET"},
    )
    assert not any(name.lower().startswith("access-control-allow") for name in headers), (
        status,
        headers,
    )
    # Nor does anything of the stage act on one: a browser sends a "simple" cross-origin POST
    # (form-encoded, as SQS's query API takes) without asking first.
    form = b"Action=ListQueues"
    simple = {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    state = local_stage.state
    for url in (f"{state.emulator_url}/", f"{state.gateway_url}/local/code-generation"):
        assert fetch(url, "POST", form, **simple)[0] == 403, url
    assert fetch(f"{state.emulator_url}/", "POST", form, Host="evil.example")[0] == 403


def test_no_page_of_another_site_reaches_a_local_server_and_motos_recorder_needs_the_token(
    local_stage,
):
    """An <img> on another site's page sends a GET with no Origin: its browser still marks it
    cross-site (or same-site), and every local server refuses it; moto's recorder, which
    would write every request body (prompts, code) to disk, starts for the token only."""
    state = local_stage.state
    for server, path in (
        (state.emulator_url, "/moto-api/recorder/start-recording"),
        (state.emulator_url, "/"),
        (state.gateway_url, "/local/code-generation"),
        (state.model_url, "/model/x/converse"),
    ):
        for site in ("cross-site", "same-site"):
            assert fetch(f"{server}{path}", **{"Sec-Fetch-Site": site})[0] == 403, (server, site)
    recorder = f"{state.emulator_url}/moto-api/recorder"
    assert fetch(f"{recorder}/start-recording")[0] == 403  # no token, no browser header
    assert fetch(f"{recorder}/reset-recording", "POST", b"")[0] == 403
    assert fetch(f"{state.emulator_url}/moto-api/reset", "POST", b"")[0] == 403
    assert not (REPO_ROOT / "moto_recording").exists()


def test_the_stack_file_holding_the_token_is_the_users_alone(local_stage):
    mode = (Path(local_stage.state_dir) / "stack.json").stat().st_mode & 0o777
    assert mode == 0o600, oct(mode)
