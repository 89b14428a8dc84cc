"""Use-cases for schedules: add, list, remove, pause, resume, run, and the default rhythm.

Every change is persisted first (schedule row, then its next occurrence), then listeners hear
which schedules changed so the runtime re-arms its timers from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.domain.recurrence import MAX_WHEN_LENGTH, Weekly, parse_when
from bot.errors import InvalidInput, LimitReached, NotAllowed, NotFound
from bot.services.goals import zone_named
from bot.services.guild_settings import GuildSettingsService
from bot.services.occurrences import OccurrenceService, recurrence_of
from db.repositories.guild_settings import GuildSettings
from db.repositories.occurrences import Occurrence
from db.repositories.schedules import (
    SCHEDULE_KINDS,
    NewSchedule,
    Schedule,
    ScheduleRepository,
    ZonedSchedule,
)

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 1500
#: Keeps autocomplete inside Discord's 25 choices (`/schedule list` pages).
MAX_SCHEDULES_PER_GUILD = 25
NO_SUCH_SCHEDULE = "There's no such schedule in this server — pick one from the list as you type."

# The default weekly rhythm: (kind, days after the week start, hour). With the default week
# start (Monday): goal prompt Monday 09:00, check-in prompt Thursday 18:00, summary Sunday 18:00.
DEFAULT_RHYTHM = (("goal-prompt", 0, 9), ("checkin-prompt", 3, 18), ("weekly-summary", 6, 18))
DEFAULT_PAIRING = ("review-pairing", 0, 10)

# Called with the ids of schedules whose fire times may have changed (or that were removed).
ScheduleListener = Callable[[Sequence[int]], Awaitable[None]]


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as moderators see it: its cadence in words and its next fire time."""

    schedule: Schedule
    description: str
    timezone: str
    next_fire: datetime | None


def _weekly(day: int, hour: int) -> str:
    return Weekly(frozenset({day % 7}), hour, 0).canonical()


class ScheduleService:
    def __init__(
        self,
        schedules: ScheduleRepository,
        occurrences: OccurrenceService,
        guild_settings: GuildSettingsService,
        clock: Clock,
    ) -> None:
        self._schedules = schedules
        self._occurrences = occurrences
        self._settings = guild_settings
        self._clock = clock
        self._listeners: list[ScheduleListener] = []
        self._new_defaults: dict[int, list[ScheduleInfo]] = {}

    def subscribe(self, listener: ScheduleListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: ScheduleListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- moderators' commands ----------------------------------------------------------------

    async def add(
        self,
        guild_id: int,
        kind: str,
        when: str,
        channel_id: int,
        message: str | None,
        created_by: int,
    ) -> ScheduleInfo:
        if kind not in SCHEDULE_KINDS:
            raise InvalidInput(f"Kind must be one of: {', '.join(SCHEDULE_KINDS)}.")
        message = (message or "").strip() or None
        if kind == "reminder" and message is None:
            raise InvalidInput("A reminder needs a message: say what it should post.")
        if message is not None and len(message) > MAX_MESSAGE_LENGTH:
            raise InvalidInput(f"The message can be at most {MAX_MESSAGE_LENGTH} characters.")
        if len(when) > MAX_WHEN_LENGTH:
            raise InvalidInput(f"`when` can be at most {MAX_WHEN_LENGTH} characters.")
        settings = await self._settings.get(guild_id)
        recurrence = parse_when(when, self._clock.now(), zone_named(settings.timezone))
        if await self._schedules.count_for_guild(guild_id) >= MAX_SCHEDULES_PER_GUILD:
            raise LimitReached(
                f"A server can have at most {MAX_SCHEDULES_PER_GUILD} schedules; remove one first."
            )
        schedule = await self._schedules.add(
            NewSchedule(guild_id, kind, recurrence.canonical(), channel_id, message, created_by),
            self._clock.now(),
        )
        return (await self._started([schedule], settings))[0]

    async def for_guild(self, guild_id: int) -> list[ScheduleInfo]:
        settings = await self._settings.get(guild_id)
        schedules = await self._schedules.list_for_guild(guild_id)
        return await self._infos(schedules, settings)

    async def get(self, guild_id: int, schedule_id: int) -> Schedule:
        schedule = await self._schedules.get(guild_id, schedule_id)
        if schedule is None:
            raise NotFound(NO_SUCH_SCHEDULE)
        return schedule

    async def remove(self, guild_id: int, schedule_id: int) -> Schedule:
        schedule = await self.get(guild_id, schedule_id)
        if not await self._schedules.remove(guild_id, schedule_id):
            raise NotFound(NO_SUCH_SCHEDULE)
        await self._changed([schedule_id])
        return schedule

    async def pause(self, guild_id: int, schedule_id: int) -> ScheduleInfo:
        await self.get(guild_id, schedule_id)
        schedule = await self._schedules.set_paused(guild_id, schedule_id, True)
        if schedule is None:
            raise NotFound(NO_SUCH_SCHEDULE)
        await self._occurrences.stop([schedule_id], "paused")
        await self._changed([schedule_id])
        return (await self._infos([schedule], await self._settings.get(guild_id)))[0]

    async def resume(self, guild_id: int, schedule_id: int) -> ScheduleInfo:
        """Fire again from now on (what was skipped while paused is not caught up); also
        re-enables a disabled schedule once moderators fixed its channel."""
        await self.get(guild_id, schedule_id)
        schedule = await self._schedules.set_paused(guild_id, schedule_id, False)
        if schedule is None:
            raise NotFound(NO_SUCH_SCHEDULE)
        return (await self._started([schedule], await self._settings.get(guild_id)))[0]

    async def start_run(self, guild_id: int, schedule_id: int) -> tuple[ZonedSchedule, Occurrence]:
        """A manual run's occurrence (the cadence stays as it is)."""
        schedule = await self.get(guild_id, schedule_id)
        if schedule.disabled_reason is not None:
            raise NotAllowed(
                f"Schedule #{schedule.id} is disabled: {schedule.disabled_reason} "
                "Fix that, then `/schedule resume` it."
            )
        zoned = await self._schedules.get_zoned(schedule_id)
        if zoned is None:
            raise NotFound(NO_SUCH_SCHEDULE)
        return zoned, await self._occurrences.run_now(schedule)

    async def choices(self, guild_id: int, typed: str) -> list[tuple[int, str]]:
        """(id, label) for autocomplete: this guild's schedules matching what was typed."""
        typed = typed.strip().lower().lstrip("#")
        found = []
        for schedule in await self._schedules.list_for_guild(guild_id):
            label = f"#{schedule.id} {schedule.kind} · {recurrence_of(schedule.recurrence)}"
            if schedule.paused:
                label += " (paused)"
            elif schedule.disabled_reason:
                label += " (disabled)"
            if not typed or typed in label.lower():
                found.append((schedule.id, label[:100]))
        return found[:25]

    # -- the runtime's needs -----------------------------------------------------------------

    async def disable(self, schedule_ids: Sequence[int], reason: str) -> list[Schedule]:
        """Stop schedules that cannot post; returns those newly disabled (to tell once)."""
        disabled = await self._schedules.disable(schedule_ids, reason)
        if disabled:
            ids = [s.id for s in disabled]
            await self._occurrences.stop(ids, "disabled")
            await self._changed(ids)
        return disabled

    async def in_channel(self, guild_id: int, channel_id: int) -> list[Schedule]:
        return await self._schedules.in_channel(guild_id, channel_id)

    # -- guild settings ----------------------------------------------------------------------

    async def settings_changed(self, before: GuildSettings, after: GuildSettings) -> None:
        """Follow the guild's settings: default rhythm on the first announcements channel,
        pairing once a reviews channel exists, fire times that follow timezone and week start."""
        created: list[ScheduleInfo] = []
        if before.announcements_channel_id is None and after.announcements_channel_id is not None:
            created = await self.create_default_rhythm(after)
        elif before.reviews_channel_id is None and after.reviews_channel_id is not None:
            created = await self._add_default_pairing(after)
        if created:
            self._new_defaults[after.guild_id] = created
        if before.timezone != after.timezone or before.week_start != after.week_start:
            zoned = await self._schedules.active_zoned(after.guild_id)
            await self._occurrences.reschedule(zoned)
            await self._changed([z.schedule.id for z in zoned])

    async def create_default_rhythm(self, settings: GuildSettings) -> list[ScheduleInfo]:
        """Goal prompt, check-in prompt and summary in the announcements channel (pairing too
        when a reviews channel is set) — once per guild, and only if it has no schedules."""
        channel = settings.announcements_channel_id
        if channel is None or await self._schedules.count_for_guild(settings.guild_id):
            return []
        new = [
            NewSchedule(
                settings.guild_id,
                kind,
                _weekly(settings.week_start + day, hour),
                channel,
                None,
                None,
            )
            for kind, day, hour in DEFAULT_RHYTHM
        ]
        if settings.reviews_channel_id is not None:
            new.append(self._pairing_schedule(settings, settings.reviews_channel_id))
        created = await self._schedules.add_defaults(
            settings.guild_id,
            new,
            self._clock.now(),
            with_pairing=settings.reviews_channel_id is not None,
        )
        if created:
            log.info("default rhythm created for guild %s", settings.guild_id)
        return await self._started(created, settings)

    def take_new_defaults(self, guild_id: int) -> list[ScheduleInfo]:
        """The default-rhythm schedules the last settings change created (once), so the
        `/settings channel` reply can list them."""
        return self._new_defaults.pop(guild_id, [])

    async def _add_default_pairing(self, settings: GuildSettings) -> list[ScheduleInfo]:
        assert settings.reviews_channel_id is not None
        created = await self._schedules.add_default_pairing(
            settings.guild_id,
            self._pairing_schedule(settings, settings.reviews_channel_id),
            self._clock.now(),
        )
        return await self._started(created, settings)

    @staticmethod
    def _pairing_schedule(settings: GuildSettings, channel_id: int) -> NewSchedule:
        kind, day, hour = DEFAULT_PAIRING
        return NewSchedule(
            settings.guild_id,
            kind,
            _weekly(settings.week_start + day, hour),
            channel_id,
            None,
            None,
        )

    # -- helpers -----------------------------------------------------------------------------

    async def _started(
        self, schedules: Sequence[Schedule], settings: GuildSettings
    ) -> list[ScheduleInfo]:
        """Record the next fire time of new or resumed schedules, tell listeners, describe."""
        zoned = [ZonedSchedule(s, settings.timezone, settings.week_start) for s in schedules]
        await self._occurrences.reschedule(zoned)
        await self._changed([s.id for s in schedules])
        return await self._infos(schedules, settings)

    async def _infos(
        self, schedules: Sequence[Schedule], settings: GuildSettings
    ) -> list[ScheduleInfo]:
        upcoming = await self._occurrences.next_fire_times([s.id for s in schedules])
        return [
            ScheduleInfo(
                schedule=s,
                description=recurrence_of(s.recurrence).describe(),
                timezone=settings.timezone,
                next_fire=upcoming.get(s.id) if s.active else None,
            )
            for s in schedules
        ]

    async def _changed(self, schedule_ids: Sequence[int]) -> None:
        if not schedule_ids:
            return
        for listener in self._listeners:
            try:
                await listener(schedule_ids)
            except Exception:
                # The database already holds the change; the periodic sweep still finds it.
                log.exception("schedule listener failed for %s", list(schedule_ids))
