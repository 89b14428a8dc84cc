"""Processes holding different shards fire only their guilds' schedules; processes holding the
same shard (a rolling restart, a mis-deploy) still post each occurrence exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.clock import FrozenClock
from bot.domain.shards import Shards, shard_of
from bot.services.occurrences import LEASE
from db.engine import Database
from db.repositories.occurrences import CLAIMED, SENT
from tests.scheduling import CHANNEL, GUILD, MODERATOR, FakeDiscord, Rig, make_rig

AT_13 = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)


def guild_on(shard: int, count: int, n: int = 0) -> int:
    """A guild id of that shard (Discord's routing: (guild_id >> 22) % count)."""
    base = (GUILD >> 22) + n * count
    return ((base - base % count + shard) << 22) | 1


async def add(rig: Rig, guild_id: int, message: str, channel: int = CHANNEL) -> int:
    info = await rig.schedules.add(guild_id, "reminder", "daily 13:00", channel, message, MODERATOR)
    return info.schedule.id


async def test_each_process_fires_the_schedules_of_its_own_shards(
    database: Database, clock: FrozenClock
) -> None:
    discord = FakeDiscord(dedupe_nonces=False)
    zero = make_rig(database, clock, discord, shards=Shards(2, (0,)))
    one = make_rig(database, clock, discord, shards=Shards(2, (1,)))
    guilds = [guild_on(n % 2, 2, n) for n in range(6)]
    assert [shard_of(g, 2) for g in guilds] == [0, 1, 0, 1, 0, 1]
    ids = [await add(zero, g, f"guild {n}", CHANNEL + n) for n, g in enumerate(guilds)]
    # Each process arms timers only for its own shards' schedules.
    assert set(await zero.occurrences.wake_times(None, Shards(2, (0,)))) == set(ids[0::2])
    assert set(await zero.occurrences.wake_times(None, Shards(2, (1,)))) == set(ids[1::2])
    assert set(await zero.occurrences.wake_times(None)) == set(ids)
    clock.set(AT_13)
    fired_by_one = await one.scheduler.run_due()
    fired_by_zero = await zero.scheduler.run_due()
    assert len(fired_by_zero) == len(fired_by_one) == 3
    assert {r.status for r in fired_by_zero + fired_by_one} == {"sent"}
    assert sorted(m.guild_id for m in discord.messages) == sorted(guilds)
    posted_by = {m.message_id: m.guild_id for m in discord.messages}
    assert {shard_of(posted_by[r.message_id], 2) for r in fired_by_one if r.message_id} == {1}
    assert {shard_of(posted_by[r.message_id], 2) for r in fired_by_zero if r.message_id} == {0}


async def test_two_processes_holding_the_same_shards_post_every_occurrence_once(
    database: Database, clock: FrozenClock
) -> None:
    discord = FakeDiscord(dedupe_nonces=False)  # only the claims may prevent a second post
    shards = Shards(2, (0,))
    first = make_rig(database, clock, discord, shards=shards)
    second = make_rig(database, clock, discord, shards=shards)
    guilds = [guild_on(0, 2, n) for n in range(20)]
    for n, guild_id in enumerate(guilds):
        await add(first, guild_id, f"guild {n}", CHANNEL + n)
    clock.set(AT_13)
    results = await asyncio.gather(first.scheduler.run_due(), second.scheduler.run_due())
    sent = [r for batch in results for r in batch if r.status == "sent"]
    assert len(sent) == len(discord.messages) == len(guilds)
    assert sorted(m.guild_id for m in discord.messages) == sorted(guilds)
    assert await first.scheduler.run_due() == [] and await second.scheduler.run_due() == []


async def test_a_claim_taken_over_after_its_lease_is_fenced_out(
    database: Database, clock: FrozenClock
) -> None:
    rig = make_rig(database, clock)
    schedule_id = await add(rig, GUILD, "fenced")
    clock.set(AT_13)
    (firing,) = await rig.occurrences.due()
    stale = await rig.occurrences.claim(firing, "same-host:1")
    assert stale is not None and stale.occurrence.attempts == 1
    clock.advance(LEASE + timedelta(seconds=1))
    (again,) = await rig.occurrences.due()
    fresh = await rig.occurrences.claim(again, "same-host:1")  # even under the same token
    assert fresh is not None and fresh.occurrence.attempts == 2
    # The stale holder can neither record its post, nor move the lease, nor give up.
    assert not await rig.occurrences.sent(stale, 111)
    await rig.occurrences.retry_at(stale, AT_13)
    await rig.occurrences.give_up(stale, "refused")
    (occurrence, *_) = await rig.occurrences.history(schedule_id)
    assert (occurrence.state, occurrence.lease_until) == (CLAIMED, fresh.occurrence.lease_until)
    assert await rig.occurrences.sent(fresh, 222)
    (occurrence, *_) = await rig.occurrences.history(schedule_id)
    assert (occurrence.state, occurrence.message_id) == (SENT, 222)
