"""SIGKILL at the worst moments, then a restart: every occurrence is posted exactly once, and
a check-in or goal being written is either all there or not there at all.

The bot runs as a real process (`python -m bot` through tests/launcher.py) on a
clock that starts at a chosen moment; the emulator dedupes posts with the same nonce
(`enforce_nonce`), as Discord does for a few minutes.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_scheduling
from bot.clock import FrozenClock
from bot.services.guild_settings import GuildSettingsService
from db.engine import Database
from db.repositories.guild_settings import GuildSettingsRepository
from discord_emulator import MANAGE_GUILD, Channel, Emulator, InteractionResult
from tests.hardening.support import integrity, query
from tests.launcher import bot_process, stop_gracefully

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREATED = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
FIRE = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
RESTART = datetime(2026, 11, 18, 13, 5, tzinfo=UTC)  # every lease of the killed run is over
POSTS = "POST /channels/{channel_id}/messages"


@dataclass
class KillPoint:
    name: str
    channel: Channel
    schedule_id: int = 0

    @property
    def text(self) -> str:
        return f"Exactly once: {self.name}"


async def add_schedules(database: Path, guild_id: int, points: list[KillPoint]) -> None:
    """Set up before the bot starts: one daily 13:00 reminder per kill point."""
    db = Database(f"sqlite:///{database}")
    await db.open()
    try:
        await db.migrate()
        clock = FrozenClock(CREATED)
        settings = GuildSettingsService(GuildSettingsRepository(db.engine), clock)
        schedules, _announcements, _scheduler = build_scheduling(db, settings, clock)
        for point in points:
            info = await schedules.add(
                guild_id, "reminder", "daily 13:00", point.channel.id, point.text, 1
            )
            point.schedule_id = info.schedule.id
    finally:
        await db.close()


def state_of(database: Path, point: KillPoint) -> list[tuple[object, ...]]:
    """The 13:00 occurrence (the only one that left `pending`; the next day's waits)."""
    return query(
        database,
        "SELECT state, message_id, attempts FROM schedule_occurrences "
        "WHERE schedule_id = ? AND state != 'pending'",
        point.schedule_id,
    )


async def until_sent(database: Path, point: KillPoint, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while [row[0] for row in state_of(database, point)] != ["sent"]:
        assert loop.time() < deadline, f"{point.name}: {state_of(database, point)}"
        await asyncio.sleep(0.1)


def posted(emu: Emulator, point: KillPoint) -> list[int]:
    return [m.id for m in emu.messages.in_channel(point.channel) if point.text in m.text()]


async def test_killed_before_during_and_after_a_post_each_appears_once(tmp_path: Path) -> None:
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    guild.add_member("Mia", permissions=MANAGE_GUILD)
    before = KillPoint("claimed, request never landed", guild.add_text_channel("before"))
    sent = KillPoint("sent, answer lost, not recorded", guild.add_text_channel("sent"))
    recorded = KillPoint("sent and recorded", guild.add_text_channel("recorded"))
    points = [before, sent, recorded]
    database = tmp_path / "cohort.sqlite3"
    await add_schedules(database, guild.id, points)

    # Discord refuses `before`'s post outright; it creates `sent`'s but the answer is lost.
    emu.faults.fail(f"POST /channels/{before.channel.id}/messages", 502, times=10_000)
    emu.faults.fail(
        f"POST /channels/{sent.channel.id}/messages", 502, times=10_000, after_processing=True
    )
    async with emu.running(patch_discord=False):
        async with bot_process(emu, database, clock_start=FIRE) as first:
            await emu.wait_ready(timeout=60, synced=True)
            await emu.wait_until(
                lambda: (
                    len(posted(emu, sent)) == 1
                    and any(
                        r.status == 502 and str(before.channel.id) in r.path for r in emu.requests
                    )
                ),
                timeout=30,
                what="one post refused and one created without an answer",
            )
            await until_sent(database, recorded)
            assert state_of(database, before)[0][0] == "claimed"
            assert state_of(database, sent)[0][0] == "claimed"
            assert posted(emu, before) == []
            first.send_signal(signal.SIGKILL)
            await first.wait()

        emu.faults.clear()
        async with bot_process(emu, database, clock_start=RESTART) as restarted:
            await emu.wait_for_identify(2, timeout=60)
            for point in (before, sent):
                await until_sent(database, point)
            # The pass that sent them saw `recorded` too: let what it started finish.
            await stop_gracefully(restarted)

    for point in points:
        (message_id,) = posted(emu, point)
        ((state, recorded_id, _attempts),) = state_of(database, point)
        assert (state, recorded_id) == ("sent", message_id), point.name
    assert state_of(database, recorded)[0][2] == 1  # never claimed again
    # Every attempt at one occurrence carried the same nonce and asked Discord to enforce it.
    for point in points:
        bodies = [r.body for r in emu.requests_to(POSTS) if str(point.channel.id) in r.path]
        assert len({b["nonce"] for b in bodies}) == 1 and all(b["enforce_nonce"] for b in bodies)
    assert integrity(database) == "ok"


# ------------------------------------------------------------------------------ writes


async def test_a_killed_write_is_all_there_or_not_at_all(tmp_path: Path) -> None:
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    guild.add_text_channel("general")
    members = [guild.add_member(f"Member {i}") for i in range(30)]
    database = tmp_path / "cohort.sqlite3"

    def notes(i: int) -> dict[str, str]:
        return {
            "done": f"done {i} " + "d" * 900,
            "next": f"next {i} " + "n" * 900,
            "blockers": f"blocked {i} " + "b" * 900,
        }

    async with emu.running(patch_discord=False):
        async with bot_process(emu, database, clock_start=FIRE) as first:
            await emu.wait_ready(timeout=60, synced=True)
            pending: list[tuple[int, str, InteractionResult]] = []
            for i, member in enumerate(members):
                checkin = await member.slash(
                    "checkin",
                    options={"hours": i % 7, "mood": 1 + i % 5, **notes(i)},
                    wait_ack=False,
                )
                goal = await member.slash("goal add", text=f"goal of {i}", wait_ack=False)
                pending += [(i, "checkin", checkin), (i, "goal", goal)]
            await emu.wait_until(
                lambda: any(r.acknowledged for _, _, r in pending), timeout=30, what="an answer"
            )
            first.send_signal(signal.SIGKILL)  # with most writes still in flight
            await first.wait()

        assert integrity(database) == "ok"
        checkins = query(
            database, "SELECT user_id, hours, done, next_steps, blockers, mood FROM checkins"
        )
        goals = query(database, "SELECT user_id, text, slot FROM goals")
        index = {member.id: i for i, member in enumerate(members)}
        for user_id, hours, done, next_steps, blockers, mood in checkins:
            i = index[user_id]
            expected = notes(i)
            assert (hours, mood) == (i % 7, 1 + i % 5)
            assert (done, next_steps, blockers) == (
                expected["done"],
                expected["next"],
                expected["blockers"],
            )
        assert sorted((index[u], t, s) for u, t, s in goals) == sorted(
            (index[u], f"goal of {index[u]}", 1) for u, _, _ in goals
        )
        # What a member was told was saved, is saved.
        for i, kind, result in pending:
            if result.acknowledged and result.content.startswith(("✅", "Added")):
                table = checkins if kind == "checkin" else goals
                assert members[i].id in {row[0] for row in table}, (i, kind)

        async with bot_process(emu, database, clock_start=FIRE):
            await emu.wait_for_identify(2, timeout=60)
            for i, member in enumerate(members):
                again = await member.slash("checkin", hours=1)
                assert "Checked in" in again.content or "Updated" in again.content, i
        assert query(database, "SELECT count(*) FROM checkins") == [(len(members),)]
        assert integrity(database) == "ok"
    emu.take_rejected_callbacks()  # the killed process never answered some interactions
