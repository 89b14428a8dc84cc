"""The bot as a real process: killed while an occurrence is claimed, restarted, posts once."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest

from discord_emulator import MANAGE_GUILD, Emulator
from tests.launcher import bot_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def occurrence_rows(database: Path) -> list[tuple[str, int | None, int]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT state, message_id, attempts FROM schedule_occurrences WHERE manual = 1"
        ).fetchall()
    return [(state, message_id, attempts) for state, message_id, attempts in rows]


async def test_a_killed_bot_posts_a_claimed_occurrence_exactly_once(tmp_path: Path) -> None:
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    general = guild.add_text_channel("general")
    moderator = guild.add_member("Mia", permissions=MANAGE_GUILD)
    database = tmp_path / "cohort.sqlite3"

    async with emu.running(patch_discord=False):
        async with bot_process(emu, database) as first:
            await emu.wait_ready(timeout=30, synced=True)
            added = await moderator.slash(
                "schedule add",
                kind="reminder",
                when="daily 09:00",
                channel=general,
                message="Exactly once, please",
            )
            assert "Added schedule" in added.content
            # Discord creates the message but every answer is lost: the bot holds its claim
            # and keeps retrying until it is killed.
            emu.faults.fail(
                "POST /channels/{channel_id}/messages", 502, times=1000, after_processing=True
            )
            await moderator.slash("schedule run", schedule=1)
            await emu.messages.wait_for(
                lambda m: "Exactly once" in m.text(), channel=general, timeout=15
            )
            assert [state for state, _, _ in occurrence_rows(database)] == ["claimed"]
            first.send_signal(signal.SIGKILL)
            await first.wait()

        emu.faults.clear()
        async with bot_process(emu, database):
            for _ in range(300):  # the database is not emulator state: poll it
                if [s for s, _, _ in occurrence_rows(database)] == ["sent"]:
                    break
                await asyncio.sleep(0.1)

    posted = [m for m in emu.messages.in_channel(general) if "Exactly once" in m.text()]
    assert len(posted) == 1
    ((state, message_id, attempts),) = occurrence_rows(database)
    assert (state, message_id) == ("sent", posted[0].id) and attempts >= 2
    emu.take_rejected_callbacks()  # the killed process never answered its deferred command
