"""DM nudges that follow a check-in prompt: who, when, with what text, and what happened.

Targets are members of the guild who turned `/me reminders` on (the bot has no member list).
Each gets one nudge per prompt, due at the prompt's local time in the member's own timezone
(or with the prompt, without one), recorded as a row so a restart resumes the fan-out without
repeating it. At send time a member who has checked in this week is skipped; a guild gets at
most ``daily_cap`` nudges a day; a member whose DMs are closed is noted and left alone until
they change their preferences (or ``closed_for`` passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.domain.shards import Shards
from bot.domain.weeks import StudyWeek, week_containing
from bot.services.announcements import AnnouncementService
from bot.services.goals import zone_named
from db.repositories.nudges import Nudge, NudgeRepository
from db.repositories.occurrences import NudgePlan
from db.repositories.schedules import ZonedSchedule

DAILY_CAP = 1000
CLOSED_FOR = timedelta(days=30)
_DAY = timedelta(days=1)


def nudge_due(fire_at: datetime, guild_tz: str, member_tz: str | None) -> datetime:
    """When a member's nudge is due: the first moment from `fire_at` on at which the member's
    own clock shows the prompt's local time (the prompt's time without a personal zone)."""
    if member_tz is None or member_tz == guild_tz:
        return fire_at
    wall = fire_at.astimezone(zone_named(guild_tz)).time().replace(tzinfo=None)
    zone = zone_named(member_tz)
    day = fire_at.astimezone(zone).date()
    due = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
    return due if due >= fire_at else datetime.combine(day + _DAY, wall, zone).astimezone(UTC)


def prompt_week(nudge: Nudge) -> StudyWeek:
    return week_containing(nudge.prompt_fire_at, zone_named(nudge.timezone), nudge.week_start)


class NudgeService:
    def __init__(
        self,
        nudges: NudgeRepository,
        announcements: AnnouncementService,
        clock: Clock,
        *,
        daily_cap: int = DAILY_CAP,
        closed_for: timedelta = CLOSED_FOR,
    ) -> None:
        self._nudges = nudges
        self._announcements = announcements
        self._clock = clock
        self.daily_cap = daily_cap
        self._closed_for = closed_for

    async def plan(self, zoned: ZonedSchedule, fire_at: datetime) -> list[NudgePlan]:
        """One nudge per opted-in member, each due at the prompt's time in their timezone."""
        targets = await self._nudges.targets(
            zoned.schedule.guild_id, self._clock.now(), self._closed_for
        )
        return [
            NudgePlan(t.user_id, nudge_due(fire_at, zoned.timezone, t.timezone)) for t in targets
        ]

    async def due(self, limit: int = 50, shards: Shards | None = None) -> list[Nudge]:
        """Nudges due now (of the guilds `shards` covers: every guild by default)."""
        shards = shards or Shards()
        return await self._nudges.due(
            self._clock.now(), limit, shard_count=shards.count, shard_ids=shards.ids
        )

    async def next_due(self) -> datetime | None:
        return await self._nudges.next_due()

    async def remaining_today(self, guild_id: int) -> int:
        sent = await self._nudges.sent_since(guild_id, self._clock.now() - _DAY)
        return max(self.daily_cap - sent, 0)

    async def texts(
        self, nudges: Sequence[Nudge], *, group_name: str, prompt_link: str | None
    ) -> dict[int, str]:
        """DM text per member of one prompt's nudges; members who checked in get none."""
        if not nudges:
            return {}
        first = nudges[0]
        return await self._announcements.nudge_texts(
            first.guild_id,
            prompt_week(first),
            [n.user_id for n in nudges],
            group_name=group_name,
            prompt_link=prompt_link,
        )

    async def claim(self, nudge: Nudge) -> bool:
        return await self._nudges.claim(nudge.occurrence_id, nudge.user_id)

    async def skip(self, nudge: Nudge) -> None:
        await self._nudges.skip(nudge.occurrence_id, nudge.user_id, self._clock.now())

    async def finish(self, nudge: Nudge, state: str) -> None:
        now = self._clock.now()
        await self._nudges.finish(nudge.occurrence_id, nudge.user_id, state, now)
        if state == "dms-closed":
            await self._nudges.note_closed(nudge.guild_id, nudge.user_id, now)
