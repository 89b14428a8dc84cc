"""Downtime: 3 hours across two occurrences, then 8 hours across another.

Inside the 6-hour catch-up window the missed fire times are coalesced into one late post that
says so; beyond it they are recorded as missed and never posted.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from db.repositories.occurrences import Occurrence, OccurrenceRepository
from discord_emulator import run_client
from tests.e2e.conftest import StudyGroup, start_bot

pytestmark = pytest.mark.e2e


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 18, hour, minute, tzinfo=UTC)


async def offline(group: StudyGroup, *, since: datetime, until: datetime) -> None:
    """The bot stops at `since` and a fresh process starts at `until` on the same database."""
    group.clock.set(since)
    runner = group._stack.pop()
    await runner.__aexit__(None, None, None)
    group.clock.set(until)
    group.bot = await start_bot(group.emu, group.database_url, group.clock)
    runner = run_client(group.emu, group.bot)
    await runner.__aenter__()
    group._stack.append(runner)


async def schedule(group: StudyGroup, when: str, message: str) -> int:
    reply = await group.mia.slash(
        "schedule add", kind="reminder", when=when, channel=group.general, message=message
    )
    return int(reply.content.split("**#")[1].split("**")[0])


async def history(group: StudyGroup, schedule_id: int) -> dict[datetime, Occurrence]:
    rows = await OccurrenceRepository(group.bot.database.engine).for_schedule(schedule_id)
    return {o.fire_at: o for o in rows}


async def settled(group: StudyGroup, schedule_id: int, fire_at: datetime) -> Occurrence:
    """The occurrence once the restarted scheduler is done with it (sent or missed)."""
    for _ in range(200):
        found = (await history(group, schedule_id)).get(fire_at)
        if found is not None and found.state in ("sent", "missed"):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"occurrence {fire_at} of schedule {schedule_id} never settled")


async def test_downtime_catches_up_once_late_and_records_the_rest_missed(
    group: StudyGroup,
) -> None:
    stand_up = await schedule(group, "0 13,14 * * *", "Stand-up notes")
    review = await schedule(group, "daily 16:00", "Evening review")

    # Down 12:30–15:30: 13:00 and 14:00 were missed, both within the catch-up window.
    await offline(group, since=at(12, 30), until=at(15, 30))
    post = await group.emu.messages.wait_for(
        lambda m: "Stand-up notes" in m.text(), channel=group.general, timeout=10
    )
    assert "Posted late" in post.text() and "1 earlier post was skipped" in post.text()
    latest = await settled(group, stand_up, at(14))
    earlier = await settled(group, stand_up, at(13))
    assert (latest.state, latest.message_id, latest.late, latest.coalesced) == (
        "sent",
        post.id,
        True,
        1,
    )
    assert (earlier.state, earlier.message_id, earlier.outcome) == ("missed", None, "coalesced")

    # Down 15:45–23:45: 16:00 is more than 6 hours old at restart.
    await offline(group, since=at(15, 45), until=at(23, 45))
    missed = await settled(group, review, at(16))
    assert (missed.state, missed.message_id) == ("missed", None)
    assert [m for m in group.posts(group.general) if "Evening review" in m.text()] == []
    # Nothing else was posted, and nothing twice.
    assert [m.id for m in group.posts(group.general)] == [post.id]
    assert await group.bot.services.scheduler.run_due() == []
