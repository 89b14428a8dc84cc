"""Guilds and members coming and going.

When the bot is removed from a guild its schedules stop at once (disabled with
``GUILD_LEFT_REASON``, due DM nudges skipped) and the departure is recorded; a daily job purges
the guild's data once the departure is ``RETENTION`` old. If the bot comes back first, the
departure is forgotten and the schedules it stopped resume: nothing is lost.

When a member leaves, their data stays (they may come back) but they drop out of DM nudges
and of review pools; features hear about it through departure hooks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.shards import Shards
from bot.services.background import Runtime
from bot.services.member_data import MemberDataService
from bot.services.schedules import ScheduleService
from db.repositories.lifecycle import LifecycleRepository

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)
GUILD_LEFT_REASON = "Cohort was removed from this server."
PURGE_EVERY_SECONDS = 24 * 60 * 60.0

# (guild_id, user_id) → what a feature does when the member leaves the guild.
DepartureHook = Callable[[int, int], Awaitable[None]]


def _every_guild(guild_id: int) -> bool:
    return True


@dataclass(frozen=True)
class GuildRemoval:
    left_at: datetime
    purge_after: datetime
    schedules_stopped: int
    nudges_skipped: int


@dataclass(frozen=True)
class Reconciled:
    left: tuple[int, ...]
    returned: tuple[int, ...]


class GuildLifecycleService:
    def __init__(
        self,
        lifecycle: LifecycleRepository,
        schedules: ScheduleService,
        member_data: MemberDataService,
        clock: Clock,
        *,
        retention: timedelta = RETENTION,
    ) -> None:
        self._lifecycle = lifecycle
        self._schedules = schedules
        self._member_data = member_data
        self._clock = clock
        self.retention = retention
        self._departure_hooks: list[DepartureHook] = []

    def on_member_departure(self, hook: DepartureHook) -> None:
        self._departure_hooks.append(hook)

    # -- guilds ------------------------------------------------------------------------------

    async def guild_removed(self, guild_id: int) -> GuildRemoval:
        """The bot was removed: stop its schedules now, purge its data after RETENTION."""
        now = self._clock.now()
        active = [
            i.schedule.id for i in await self._schedules.for_guild(guild_id) if i.schedule.active
        ]
        stopped = await self._schedules.disable(active, GUILD_LEFT_REASON)
        skipped = await self._lifecycle.skip_scheduled_nudges(guild_id, now)
        # Last: until this row exists, a restart's catch-up would stop the guild again.
        left_at = await self._lifecycle.guild_left(guild_id, now)
        log.info(
            "removed from guild %s: %d schedule(s) stopped, %d nudge(s) skipped, purge after %s",
            guild_id,
            len(stopped),
            skipped,
            left_at + self.retention,
        )
        return GuildRemoval(left_at, left_at + self.retention, len(stopped), skipped)

    async def guild_joined(self, guild_id: int) -> int:
        """The bot is in the guild (again): forget a departure and resume the schedules it
        stopped. Returns how many schedules resumed."""
        resumed = 0
        for info in await self._schedules.for_guild(guild_id):
            if info.schedule.disabled_reason == GUILD_LEFT_REASON:
                await self._schedules.resume(guild_id, info.schedule.id)
                resumed += 1
        # Last: until this row is gone, a restart's catch-up would finish the return.
        left_at = await self._lifecycle.guild_returned(guild_id)
        if left_at is not None or resumed:
            log.info(
                "back in guild %s (left %s): %d schedule(s) resumed", guild_id, left_at, resumed
            )
        return resumed

    async def reconcile(
        self, present: Iterable[int], owns: Callable[[int], bool] = _every_guild
    ) -> Reconciled:
        """Catch up with removals and returns that happened while the bot was offline, given
        every guild the bot is in now among those `owns` (a process sees only its shards')."""
        here = set(present)
        departed = await self._lifecycle.departed_guilds()
        returned = sorted(g for g in departed if g in here)
        for guild_id in returned:
            await self.guild_joined(guild_id)
        known = await self._lifecycle.guilds_with_data()
        gone = sorted(g for g in known - here - set(departed) if owns(g))
        for guild_id in gone:
            await self.guild_removed(guild_id)
        return Reconciled(tuple(gone), tuple(returned))

    async def purge_due(self, owns: Callable[[int], bool] = _every_guild) -> list[int]:
        """Purge every guild (among those `owns`) the bot left at least RETENTION ago;
        returns their ids."""
        purged = []
        for guild_id in await self._lifecycle.left_before(self._clock.now() - self.retention):
            if not owns(guild_id):
                continue
            rows = await self._member_data.purge_guild(guild_id)
            log.info(
                "purged guild %s (%d rows), %s after the bot left", guild_id, rows, self.retention
            )
            purged.append(guild_id)
        return purged

    async def departed_guilds(self) -> dict[int, datetime]:
        return await self._lifecycle.departed_guilds()

    # -- members -----------------------------------------------------------------------------

    async def member_left(self, guild_id: int, user_id: int) -> None:
        """Out of nudges and review pools; their data stays."""
        now = self._clock.now()
        await self._lifecycle.member_left(guild_id, user_id, now)
        await self._lifecycle.skip_scheduled_nudges(guild_id, now, user_id)
        for hook in self._departure_hooks:
            try:
                await hook(guild_id, user_id)
            except Exception:
                log.exception("departure hook failed for member %s of %s", user_id, guild_id)

    async def member_returned(self, guild_id: int, user_id: int) -> bool:
        return await self._lifecycle.member_returned(guild_id, user_id)

    async def departed_members(self, guild_id: int) -> dict[int, datetime]:
        return await self._lifecycle.departed_members(guild_id)


class DailyPurge:
    """A Background worker of the bot: once connected, and then daily, catch up with guild
    removals and returns missed while offline, then purge guilds left RETENTION ago.

    Catching up first matters: a guild that re-added the bot while it was offline must not be
    purged before the bot notices it is back."""

    def __init__(
        self,
        lifecycle: GuildLifecycleService,
        *,
        every_seconds: float = PURGE_EVERY_SECONDS,
        shards: Shards | None = None,
    ) -> None:
        self._lifecycle = lifecycle
        #: Only guilds on these shards: another process sees (and purges) the others.
        self._shards = shards or Shards()
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None
        self.passes = 0

    async def start(self, runtime: Runtime | None = None) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(runtime), name="cohort-daily-purge")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run_once(self, present: Iterable[int] | None) -> list[int]:
        owns = self._shards.owns
        if present is not None:
            await self._lifecycle.reconcile(present, owns)
        return await self._lifecycle.purge_due(owns)

    async def _run(self, runtime: Runtime | None) -> None:
        if runtime is not None:
            await runtime.wait_until_ready()
        while True:
            try:
                present = [g.id for g in runtime.guilds] if runtime is not None else None
                await self.run_once(present)
            except Exception:
                log.exception("guild purge pass failed; the next pass retries")
            self.passes += 1
            await asyncio.sleep(self._every)
