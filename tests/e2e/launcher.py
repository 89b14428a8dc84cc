"""Test-only launcher: runs the real `python -m bot` against the local Discord emulator.

The bot's code is unchanged: this only points discord.py at the emulator (the two endpoints it
reads) and may shorten the occurrence lease so a restart test need not wait two minutes, and the
pauses between log-in attempts (COHORT_TEST_LOGIN_ATTEMPTS, COHORT_TEST_LOGIN_DELAY) so a test
of an unreachable Discord need not wait minutes.

    COHORT_TEST_API_BASE=http://127.0.0.1:PORT/api/v10 COHORT_TEST_GATEWAY=ws://127.0.0.1:PORT/
    python -m tests.e2e.launcher
"""

from __future__ import annotations

import os
from datetime import timedelta

import discord.gateway
import discord.http
import yarl

from bot import __main__ as cli
from bot import startup
from bot.services import occurrences


def main() -> int:
    discord.http.Route.BASE = os.environ["COHORT_TEST_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["COHORT_TEST_GATEWAY"])
    lease = os.environ.get("COHORT_TEST_LEASE_SECONDS")
    if lease:
        occurrences.LEASE = timedelta(seconds=float(lease))
    attempts = os.environ.get("COHORT_TEST_LOGIN_ATTEMPTS")
    if attempts:
        startup.LOGIN_ATTEMPTS = int(attempts)
    delay = os.environ.get("COHORT_TEST_LOGIN_DELAY")
    if delay:
        startup.FIRST_DELAY = startup.MAX_DELAY = float(delay)
    return cli.main([])


if __name__ == "__main__":
    raise SystemExit(main())
