"""A study group on the local Discord emulator, with the real bot connected to it.

`group` is what most end-to-end tests need: one guild with a moderator (Mia, Manage Server),
two members (Sam, Ada), a second guild with its own member (Zoe), the bot started on a fresh
SQLite file and a frozen clock. `study_group(...)` builds the same with another clock, and
`group.restart()` stops the bot and starts a new process-equivalent on the same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_bot
from bot.bot import CohortBot
from bot.clock import Clock, FrozenClock
from bot.config import Settings
from bot.scheduler import Scheduler
from discord_emulator import (
    MANAGE_GUILD,
    Channel,
    Emulator,
    Guild,
    InteractionResult,
    Member,
    PostedMessage,
    run_client,
)
from tests.conftest import copy_of

# Wednesday 18 November 2026, 12:00 UTC.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


@dataclass
class StudyGroup:
    emu: Emulator
    guild: Guild
    general: Channel
    announcements: Channel
    mia: Member  # a moderator (Manage Server)
    sam: Member
    ada: Member
    other_guild: Guild
    zoe: Member  # a member of the other guild only
    clock: Any  # FrozenClock, or any Clock a test passes in
    database_url: str
    bot: CohortBot
    _stack: list[Any] = field(default_factory=list, repr=False)

    @property
    def scheduler(self) -> Scheduler:
        """The running bot's scheduler (tests call `run_due()` after moving a FrozenClock)."""
        return self.bot.services.scheduler

    def posts(self, channel: Channel) -> list[PostedMessage]:
        """What the bot posted in a channel (not interaction replies)."""
        return [m for m in self.emu.messages.in_channel(channel) if m.kind == "channel"]

    async def restart(self) -> None:
        """Stop the bot and start a fresh one on the same database, as after a redeploy."""
        runner = self._stack.pop()
        await runner.__aexit__(None, None, None)
        self.bot = await start_bot(self.emu, self.database_url, self.clock)
        runner = run_client(self.emu, self.bot, wait_for_sync=False)
        await runner.__aenter__()
        self._stack.append(runner)


async def start_bot(emu: Emulator, database_url: str, clock: Clock) -> CohortBot:
    return await create_bot(Settings(token=emu.bot_token, database_url=database_url), clock=clock)


# A SQLite file migrated once per test run (tests/conftest.py); each group starts on a copy.
_template: Path | None = None


@pytest.fixture(scope="session", autouse=True)
def _migrated_once(migrated_sqlite: Path) -> None:
    global _template
    _template = migrated_sqlite


@asynccontextmanager
async def study_group(tmp_path: Path, clock: Clock | None = None) -> AsyncIterator[StudyGroup]:
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    general = guild.add_text_channel("general")
    announcements = guild.add_text_channel("announcements")
    mia = guild.add_member("Mia", permissions=MANAGE_GUILD)
    sam = guild.add_member("Sam")
    ada = guild.add_member("Ada")
    other_guild = emu.world.add_guild("Another Group")
    other_guild.add_text_channel("lobby")
    zoe = other_guild.add_member("Zoe")
    url = f"sqlite:///{tmp_path}/cohort.sqlite3"
    if _template is not None:
        copy_of(_template, url)
    clock = clock or FrozenClock(NOW)
    emu.clock = clock.now  # Discord's nonce window runs on the bot's time
    async with emu.running():
        bot = await start_bot(emu, url, clock)
        runner = run_client(emu, bot, wait_for_sync=True)
        await runner.__aenter__()
        group = StudyGroup(
            emu, guild, general, announcements, mia, sam, ada, other_guild, zoe, clock, url, bot,
            [runner],
        )  # fmt: skip
        try:
            yield group
        finally:
            await group._stack.pop().__aexit__(None, None, None)


@pytest.fixture
async def group(tmp_path: Path) -> AsyncIterator[StudyGroup]:
    async with study_group(tmp_path) as study:
        yield study


def refused(result: InteractionResult, *words: str) -> bool:
    """An ephemeral answer that says each of `words` (case-insensitive)."""
    text = (result.content or "").lower()
    return result.ephemeral and all(w.lower() in text for w in words)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (bounded) for something the bot does after an event it is not asked to answer."""
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")
