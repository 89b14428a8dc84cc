"""Discord misbehaving: 5xx storms, a global 429, a per-route 429 storm, a dropped gateway
connection and INVALID_SESSION. Interactions are still answered within 3 s, scheduled posts
are delayed but neither lost nor doubled, and reconnecting never starts a second scheduler.

Pacing is shortened without changing behaviour: the scheduler's own retry delays (its
documented tuning) and discord.py's 1-9 s waits between 5xx retries run faster, so a storm
of minutes takes seconds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduler import FireResult
from db.repositories.occurrences import OccurrenceRepository
from discord_emulator import Channel, InteractionResult
from tests.e2e.conftest import StudyGroup, eventually
from tests.hardening.support import assert_no_ping_escaped, compress_discord_backoff

pytestmark = pytest.mark.e2e

AT_13 = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
POSTS = "POST /channels/{channel_id}/messages"


async def reminder(group: StudyGroup, text: str, channel: Channel | None = None) -> int:
    reply = await group.mia.slash(
        "schedule add",
        kind="reminder",
        when="daily 13:00",
        channel=channel or group.general,
        message=text,
    )
    return int(reply.content.split("**#")[1].split("**")[0])


def copies(group: StudyGroup, text: str, channel: Channel | None = None) -> list[int]:
    return [m.id for m in group.posts(channel or group.general) if text in m.text()]


async def sent_at(group: StudyGroup, schedule_id: int, fire_at: datetime) -> bool:
    occurrences = await OccurrenceRepository(group.bot.database.engine).for_schedule(schedule_id)
    return any(o.fire_at == fire_at and o.state == "sent" for o in occurrences)


async def members_meanwhile(group: StudyGroup, until: Callable[[], bool]) -> int:
    """Members keep using commands (each must be acknowledged within 3 s) until `until()`."""
    answered = 0
    n = 0
    while not until():
        results: tuple[InteractionResult, ...] = await asyncio.gather(
            group.sam.slash("checkin", hours=1 + n % 5),
            group.ada.slash("goal list"),
            group.mia.slash("schedule list"),
        )
        assert all(r.acknowledged for r in results)
        answered += len(results)
        n += 1
    return answered


async def post_until_sent(group: StudyGroup, attempts: int = 5) -> list[FireResult]:
    """Fire what is due; after a retryable failure, move the clock past the retry time."""
    scheduler = group.bot.services.scheduler
    results: list[FireResult] = []
    for _ in range(attempts):
        results += await scheduler.run_due()
        if results and results[-1].status == "sent":
            return results
        group.clock.advance(timedelta(seconds=61))
    raise AssertionError(f"never sent: {results}")


def cohort_tasks() -> Counter[str]:
    return Counter(t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("cohort"))


async def test_a_5xx_storm_delays_a_post_but_never_loses_or_doubles_it(
    group: StudyGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    compress_discord_backoff(monkeypatch, factor=0.02)
    schedule_id = await reminder(group, "Storm-proof")
    # Gateway timeouts after Discord created the message (answers lost), then bad gateways.
    lost = group.emu.faults.fail(POSTS, 504, times=5, after_processing=True)
    refused = group.emu.faults.fail(POSTS, 502, times=20)
    group.clock.set(AT_13)

    posting = asyncio.ensure_future(post_until_sent(group))
    answered = await members_meanwhile(group, posting.done)
    results = await posting
    assert answered > 0
    assert results[0].status == "retrying" and results[-1].status == "sent"
    # The next claim finds the message a lost answer had created there: no more attempts.
    assert len(lost.fired) == 5 and 0 < len(refused.fired) < 20

    (message_id,) = copies(group, "Storm-proof")
    occurrences = await OccurrenceRepository(group.bot.database.engine).for_schedule(schedule_id)
    (sent,) = [o for o in occurrences if o.state != "pending"]
    assert (sent.state, sent.message_id) == ("sent", message_id)
    nonces = {r.body["nonce"] for r in group.emu.requests_to(POSTS)}
    assert len(nonces) == 1  # every retry was the same post to Discord


async def test_a_global_429_is_waited_out_while_interactions_go_on(group: StudyGroup) -> None:
    await reminder(group, "After the global limit")
    group.emu.faults.fail(POSTS, 429, times=1, retry_after=1.5, is_global=True)
    group.clock.set(AT_13)
    posting = asyncio.ensure_future(group.bot.services.scheduler.run_due())
    await group.emu.wait_until(
        lambda: any(r.status == 429 for r in group.emu.requests), what="the global 429"
    )
    # discord.py now holds every REST call for 1.5 s; interaction answers do not wait.
    answered = await members_meanwhile(group, posting.done)
    (result,) = await posting
    assert result.status == "sent" and answered > 0
    limited, retried = group.emu.requests_to(POSTS)
    assert limited.status == 429 and retried.status == 200
    assert retried.at - limited.at >= 1.4  # retry_after was honoured
    assert len(copies(group, "After the global limit")) == 1


async def test_a_per_route_429_storm_posts_everything_once(group: StudyGroup) -> None:
    second = group.guild.add_text_channel("second")
    texts = [(f"Limited {i}", group.general if i % 2 else second) for i in range(6)]
    for text, channel in texts:
        await reminder(group, text, channel)
    group.emu.ratelimits.limit(POSTS, 2, per=1.0)
    group.emu.faults.fail(POSTS, 429, times=4, retry_after=0.3)
    group.clock.set(AT_13)

    posting = asyncio.ensure_future(group.bot.services.scheduler.run_due())
    answered = await members_meanwhile(group, posting.done)
    results = await posting
    assert [r.status for r in results] == ["sent"] * 6 and answered > 0
    for text, channel in texts:
        assert len(copies(group, text, channel)) == 1, text
    statuses = Counter(r.status for r in group.emu.requests_to(POSTS))
    assert statuses[429] >= 4 and statuses[200] == 6
    assert not any(is_global for _, _, is_global in group.emu.ratelimits.hits)


async def reconnect_keeps_one_scheduler(
    group: StudyGroup, break_connection: Callable[[], Awaitable[None]]
) -> None:
    scheduler = group.bot.services.scheduler
    tasks = cohort_tasks()
    assert tasks["cohort-scheduler"] == 1
    jobs = [job.id for job in scheduler._timer.get_jobs()]  # type: ignore[union-attr]
    syncs = group.emu.sync_calls
    schedule_id = await reminder(group, "After the reconnect")

    await break_connection()
    # A member acts straight away; the interaction reaches the bot once it is back.
    added = await group.sam.slash("goal add", text="Typed during the blip")
    assert "Typed during the blip" in added.content

    group.clock.set(AT_13)
    await group.emu.wait_until(
        lambda: group.bot.is_ready() and group.emu.gateway.connected, what="ready again"
    )
    results = await scheduler.run_due()
    assert [r.status for r in results] in (["sent"], [])
    # [] when the bot's own loop claimed it first: its post counts once it is recorded.
    await eventually(lambda: sent_at(group, schedule_id, AT_13), "the 13:00 post recorded")
    assert len(copies(group, "After the reconnect")) == 1

    assert cohort_tasks() == tasks
    after = {job.id for job in scheduler._timer.get_jobs()}  # type: ignore[union-attr]
    assert set(jobs) <= after and after - set(jobs) <= {f"schedule:{schedule_id}", "nudges"}
    assert group.emu.sync_calls == syncs  # no second start-up
    assert_no_ping_escaped(group.emu)


async def test_a_dropped_connection_resumes_with_one_scheduler(group: StudyGroup) -> None:
    async def drop() -> None:
        await group.emu.gateway.drop_connection()

    await reconnect_keeps_one_scheduler(group, drop)
    assert group.emu.gateway.resumes == 1 and group.emu.gateway.identifies == 1


async def test_invalid_session_identifies_again_with_one_scheduler(group: StudyGroup) -> None:
    async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before identifying again; the emulator needs no pause."""

    group.bot.before_identify_hook = no_wait  # type: ignore[method-assign]

    async def invalidate() -> None:
        await group.emu.gateway.invalidate_session()
        await group.emu.wait_for_identify(2)

    await reconnect_keeps_one_scheduler(group, invalidate)
    assert group.emu.gateway.identifies == 2
