"""A headless Chromium for the console, driven by Selenium with the system's chromedriver:
the browser tests and bench/console.py use the same one. Nothing here downloads a browser
or a driver (Debian's packages: chromium, chromium-driver; `.ci/run` installs them)."""

import shutil
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
