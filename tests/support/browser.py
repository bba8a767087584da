"""Debian's headless chromium, driven by selenium through Debian's chromedriver, for the tests
that check HTML a person reads (no browser is downloaded: both paths are given, so
selenium-manager is not run, and it is told to stay offline were it run)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A selenium driver of headless chromium with a throwaway profile and the browser's console
    log kept; quit on leaving. A missing selenium or chromium fails the test and says to run
    `make test`, which installs them."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:  # pragma: no cover - the test extra installs it
        pytest.fail(f"selenium is not installed ({e}): run `make test`, which installs the test extra")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: run `make test`, which installs Debian's "
                    "chromium and chromium-driver")
    with tempfile.TemporaryDirectory(prefix="tradevc-chromium-") as profile, pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        except Exception as e:
            pytest.fail(f"headless chromium did not start ({type(e).__name__}: {e}); run `make test`, which "
                        "installs Debian's chromium and chromium-driver")
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()
