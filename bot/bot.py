"""The Bot subclass: receives its dependencies, loads the cogs, syncs commands when needed."""

from __future__ import annotations

import logging
import pkgutil
from collections.abc import Sequence

import discord
from discord.ext import commands

import cogs
from bot.clock import Clock
from bot.command_sync import sync_if_changed
from bot.config import Settings
from bot.services import Services
from bot.services.background import Background
from bot.shards import IdentifyPacer, start_limit
from bot.tree import CohortTree
from db.engine import Database
from db.repositories.bot_state import BotStateRepository

log = logging.getLogger(__name__)


def all_extensions() -> list[str]:
    """Every cog module under cogs/ (modules starting with _ are helpers, not cogs)."""
    return sorted(
        f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.name.startswith("_")
    )


def intents() -> discord.Intents:
    """Only what Cohort uses: Guilds (servers joined and left, channels deleted) and Server
    Members, privileged, without which Discord never says a member left (leavers would stay in
    review pools and nudges). No messages, reactions, typing, voice, invites or presences:
    interactions arrive without any intent. Members are not cached or fetched at start-up
    (see CohortBot)."""
    return discord.Intents(guilds=True, members=True)


class CohortBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        services: Services,
        clock: Clock,
        background: Sequence[Background] = (),
        extensions: Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            tree_cls=CohortTree,
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shards.count,
            # discord.py types it as a list, but None (its default) is every shard.
            shard_ids=list(settings.shards.ids) if settings.shards.ids else None,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.database = database
        self.services = services
        self.clock = clock
        self._background = list(background)
        self._extensions = list(extensions) if extensions is not None else all_extensions()
        self._started: list[Background] = []
        self._pacer = IdentifyPacer()

    async def setup_hook(self) -> None:
        for extension in self._extensions:
            await self.load_extension(extension)
        assert self.application_id is not None
        self._pacer = await start_limit(self.http, self.settings.shards)
        if self.settings.shards.holds_shard_zero:  # once, whatever the number of processes
            await sync_if_changed(
                self.tree,
                BotStateRepository(self.database.engine),
                application_id=self.application_id,
                dev_guild_id=self.settings.dev_guild_id,
                now=self.clock.now(),
            )
        for worker in self._background:
            await worker.start(self)
            self._started.append(worker)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord's pace for IDENTIFY (per max_concurrency bucket), not a flat 5 s per shard."""
        await self._pacer.wait(shard_id)

    async def close(self) -> None:
        """Stop background work, close the gateway, then the database (idempotent)."""
        while self._started:
            worker = self._started.pop()
            try:
                await worker.stop()
            except Exception:
                log.exception("error while stopping %r", worker)
        if self._ready is discord.utils.MISSING:
            # Never logged in: the sharded close needs what log-in sets up first.
            await self._async_setup_hook()
        await super().close()
        await self.database.close()
