"""Headless Chromium for the tests that look at a page as a person would (the website, the
MLflow UI): Debian's ``chromium`` and ``chromium-driver`` driven by Selenium, which downloads
nothing, or the browser and driver that ``REPROML_CHROME`` and ``REPROML_CHROMEDRIVER`` name
(GitHub's runners). Without them the test is skipped."""

from __future__ import annotations

import os
import shutil

import pytest


def chromium(window: str = "1280,900"):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    driver_path = os.environ.get("REPROML_CHROMEDRIVER") or shutil.which("chromedriver")
    binary = os.environ.get("REPROML_CHROME") or shutil.which("chromium")
    if not driver_path or not binary:
        pytest.skip("no chromium/chromium-driver here (Debian: apt install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", f"--window-size={window}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors
    return webdriver.Chrome(service=Service(driver_path), options=options)
