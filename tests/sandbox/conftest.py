"""One headless Chromium per test run, shared by the browser tests (it is slow to start)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "sandbox"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from tests.sandbox.browser import find_chromium, start_browser

    found = find_chromium()
    if found is None:
        reason = (
            "no headless Chromium: install Debian's chromium and chromium-driver "
            "(.ci/run does) or set COHORT_CHROMIUM and COHORT_CHROMEDRIVER"
        )
        if os.environ.get("COHORT_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    driver = start_browser(*found)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
