"""Test-only launcher: `python -m bot` against the local Discord emulator, optionally on a
shifted clock, so a killed and restarted process can be tested at a chosen moment.

The bot's code is unchanged. Besides what tests/e2e/launcher.py does (point discord.py at the
emulator, shorten the occurrence lease), COHORT_TEST_CLOCK_START=ISO-8601 makes the system
clock read that moment at start-up and run on from there in real time.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import bot.app
from bot.clock import SystemClock
from tests.e2e import launcher


class StartedClock(SystemClock):
    """Real time, started at a chosen moment."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


def main() -> int:
    start = os.environ.get("COHORT_TEST_CLOCK_START")
    if start:
        moment = datetime.fromisoformat(start)
        bot.app.SystemClock = lambda: StartedClock(moment)  # type: ignore[misc,assignment]
    return launcher.main()


if __name__ == "__main__":
    raise SystemExit(main())
