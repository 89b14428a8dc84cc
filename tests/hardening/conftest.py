"""Fixtures for the hardening tests: the end-to-end study group, with a short retry pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.conftest import StudyGroup, study_group
from tests.hardening.support import fast_scheduler


@pytest.fixture
async def group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StudyGroup]:
    """The e2e study group (Mia moderates; Sam and Ada are members; Zoe is in another guild),
    with the scheduler's retry delays shortened."""
    with fast_scheduler(monkeypatch):
        async with study_group(tmp_path) as study:
            yield study
