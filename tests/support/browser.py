"""Headless browsers for the console: Chromium, driven by Selenium with the system's
chromedriver (the browser tests and bench/console.py use the same one), and Firefox, over
the WebDriver BiDi protocol it serves itself. Nothing here downloads a browser or a driver
(Debian's packages: chromium, chromium-driver, firefox-esr; `.ci/run` installs them)."""

import contextlib
import itertools
import json
import shutil
import socket as socket_module
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MISSING = "no Chromium with chromedriver on PATH (Debian: apt install chromium chromium-driver)"
# A laptop's width: the page must read well at it (issue 24).
WINDOW_SIZE = "1366,900"


def browser_paths() -> tuple[str, str] | None:
    """The system's Chromium and its chromedriver, or None when either is missing."""
    browser = next(
        (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))),
        None,
    )
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def headless_chromium(paths: tuple[str, str], *, console_log: bool = False) -> Iterator[Any]:
    """A Selenium driver of a headless Chromium at laptop width, quit on exit; with
    `console_log`, the browser's console messages can be read (driver.get_log("browser"))."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={WINDOW_SIZE}",
    ):
        options.add_argument(argument)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


# -- Firefox, over WebDriver BiDi -------------------------------------------------------------
FIREFOX_MISSING = "no Firefox on PATH (Debian: apt install firefox-esr)"


def firefox_path() -> str | None:
    return shutil.which("firefox-esr") or shutil.which("firefox")


class FirefoxBiDi:
    """A headless Firefox driven over WebDriver BiDi, the W3C protocol Firefox itself serves
    (`--remote-debugging-port`): no geckodriver, which Debian does not package and Selenium
    would download. Only what the console's tests use: navigate, evaluate, read the console's
    entries. websocket-client (Selenium's own dependency) carries the messages."""

    def __init__(self, socket: Any, timeout_s: float) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._timeout_s = timeout_s
        self.console: list[dict[str, Any]] = []  # log.entryAdded events' params, in order
        self.call("session.new", capabilities={})
        self.call("session.subscribe", events=["log.entryAdded"])
        self.context = self.call("browsingContext.getTree")["contexts"][0]["context"]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            message = json.loads(self._socket.recv())
            if message.get("id") == number:
                if message.get("type") == "error" or "error" in message:
                    raise RuntimeError(
                        f"{method}: {message.get('error')}: {message.get('message')}"
                    )
                return message["result"]
            if message.get("method") == "log.entryAdded":
                self.console.append(message["params"])
        raise TimeoutError(f"Firefox did not answer {method} in {self._timeout_s} s")

    def navigate(self, url: str) -> None:
        self.call("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def evaluate(self, expression: str) -> Any:
        """The value of a script on the page (a promise is awaited); raises on an exception."""
        result = self.call(
            "script.evaluate",
            expression=expression,
            target={"context": self.context},
            awaitPromise=True,
        )
        if result.get("type") == "exception":
            raise RuntimeError(result["exceptionDetails"].get("text", "a script failed"))
        return result["result"].get("value")

    def errors(self) -> list[dict[str, Any]]:
        """The console's error entries so far (an uncaught exception is one)."""
        self.call("session.status")  # takes in the events already sent
        return [entry for entry in self.console if entry.get("level") == "error"]


@contextmanager
def headless_firefox(path: str, *, timeout_s: float = 60.0) -> Iterator[FirefoxBiDi]:
    """A headless Firefox at laptop width with a fresh profile, stopped on exit."""
    import psutil
    import websocket

    with tempfile.TemporaryDirectory(prefix="codegen-firefox-") as profile:
        port = _free_port()
        width, height = WINDOW_SIZE.split(",")
        process = subprocess.Popen(
            [
                path,
                "--headless",
                "--no-remote",
                "--profile",
                profile,
                "--remote-debugging-port",
                str(port),
                "--width",
                width,
                "--height",
                height,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            socket = _connect(websocket, port, process, timeout_s)
            try:
                yield FirefoxBiDi(socket, timeout_s)
            finally:
                socket.close()
        finally:
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(process.pid)
                for child in parent.children(recursive=True):
                    child.kill()
                parent.kill()
            process.wait(timeout=30)


def _free_port() -> int:
    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connect(websocket: Any, port: int, process: subprocess.Popen, timeout_s: float) -> Any:
    """The BiDi session's socket, once Firefox listens (it refuses a browser's Origin: none
    is sent)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return websocket.create_connection(
                f"ws://127.0.0.1:{port}/session", timeout=timeout_s, suppress_origin=True
            )
        except (OSError, websocket.WebSocketException) as exc:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Firefox exited ({process.returncode}) before it listened"
                ) from exc
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Firefox did not listen on port {port} in {timeout_s} s"
                ) from exc
            time.sleep(0.25)
