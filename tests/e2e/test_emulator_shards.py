"""The emulator shards as Discord does: guilds routed by ``(guild_id >> 22) % shard_count``,
their events only to their shard's session, /gateway/bot's recommendation and 4011."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from discord_emulator import Emulator, run_client
from tests.e2e.test_going_online import run_launcher, the_one_line

pytestmark = pytest.mark.e2e


class ShardedClient(discord.AutoShardedClient):
    def __init__(self, **options: object) -> None:
        intents = discord.Intents(guilds=True)
        super().__init__(intents=intents, **options)  # type: ignore[arg-type]
        self.channels_created: list[tuple[int, int]] = []  # (guild id, shard id)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s wait between shards: the emulator has no identify budget to protect."""

    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self.channels_created.append((channel.guild.id, channel.guild.shard_id))


async def test_each_guild_reaches_only_the_session_of_its_shard() -> None:
    emu = Emulator()
    guilds = [emu.world.add_guild(f"Group {n}", shard=(n % 3, 3)) for n in range(6)]
    async with emu.running(), run_client(emu, ShardedClient(shard_count=3)) as client:
        assert {(s.shard_id, s.shard_count) for s in emu.gateway.live_sessions} == {
            (0, 3), (1, 3), (2, 3),
        }  # fmt: skip
        for n, guild in enumerate(guilds):
            assert (guild.id >> 22) % 3 == n % 3
            seen = client.get_guild(guild.id)
            assert seen is not None and seen.shard_id == n % 3
        guilds[4].add_text_channel("later")
        await emu.wait_until(lambda: bool(client.channels_created), what="CHANNEL_CREATE")
    assert client.channels_created == [(guilds[4].id, 1)]
    # Every event of guild 4 went to shard 1's session, none to the others.
    by_shard = {
        s.shard_id: {p["d"].get("guild_id") or p["d"].get("id") for _, p in s.sent}
        for s in emu.gateway.sessions.values()
    }
    assert str(guilds[4].id) in by_shard[1]
    assert str(guilds[4].id) not in by_shard[0] | by_shard[2]


async def test_a_process_holding_some_shards_sees_only_their_guilds() -> None:
    emu = Emulator()
    mine = emu.world.add_guild("Mine", shard=(1, 2))
    theirs = emu.world.add_guild("Theirs", shard=(0, 2))
    client = ShardedClient(shard_count=2, shard_ids=[1])
    async with emu.running(), run_client(emu, client):
        assert [g.id for g in client.guilds] == [mine.id]
        assert client.get_guild(theirs.id) is None


async def test_gateway_bot_recommends_a_shard_per_thousand_guilds_and_reports_the_limit() -> None:
    emu = Emulator()
    for n in range(1001):
        emu.world.add_guild(f"Group {n}")
    emu.gateway.max_concurrency = 4
    async with emu.running():
        client = discord.Client(intents=discord.Intents(guilds=True))
        await client.login(emu.bot_token)
        try:
            shards, _, limit = await client.http.get_bot_gateway()
        finally:
            await client.close()
    assert shards == 2
    assert limit["max_concurrency"] == 4 and limit["remaining"] == limit["total"] == 1000


async def test_more_than_2500_guilds_in_one_shard_is_closed_with_4011() -> None:
    emu = Emulator()
    for n in range(2501):
        emu.world.add_guild(f"Group {n}", shard=(0, 1))
    async with emu.running():
        client = ShardedClient(shard_count=1)
        with pytest.raises(discord.ConnectionClosed) as info:
            async with asyncio.timeout(30):
                await client.start(emu.bot_token)
        await client.close()
    assert info.value.code == 4011
    assert 4011 in emu.gateway.close_codes


async def test_a_shard_outside_its_count_is_closed_with_4010() -> None:
    emu = Emulator()
    emu.world.add_guild("Group")
    async with emu.running():
        client = ShardedClient(shard_count=2, shard_ids=[2])
        with pytest.raises(discord.ConnectionClosed) as info:
            async with asyncio.timeout(30):
                await client.start(emu.bot_token)
        await client.close()
    assert info.value.code == 4010


# -- the real bot's answers (`python -m bot` through the test launcher) ----------------------


async def test_the_bot_told_sharding_is_required_stops_with_one_line(tmp_path: Path) -> None:
    emu = Emulator()
    for n in range(2501):
        emu.world.add_guild(f"Group {n}", shard=(0, 1))
    async with emu.running(patch_discord=False):
        result = await run_launcher(emu, tmp_path, emu.bot_token, SHARD_COUNT="1")
    line = the_one_line(result)
    assert "Discord requires more shards" in line and "SHARD_COUNT=auto" in line


async def test_a_used_up_session_start_limit_stops_with_one_line(tmp_path: Path) -> None:
    emu = Emulator()
    emu.world.add_guild("Group")
    emu.gateway.start_limit_remaining = 0
    async with emu.running(patch_discord=False):
        result = await run_launcher(emu, tmp_path, emu.bot_token)
    line = the_one_line(result)
    assert "session start limit is used up" in line and "resets in 4.0 h" in line
    assert emu.gateway.identifies == 0
