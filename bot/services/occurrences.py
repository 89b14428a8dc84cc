"""Occurrences of schedules: the exactly-once state machine and catch-up after downtime.

Every fire time is a row: ``pending`` → ``claimed`` (by one worker, with a lease) → ``sent``
(with the message id) or ``missed`` (with why). The database is the truth; the in-memory timer
only says when to look.

- **Claim.** One conditional UPDATE; of racing claimers (processes too) exactly one wins. A claim
  whose lease ran out (its worker died) can be claimed again; the claim's attempt number fences
  the old holder out (it can no longer record, retry or give up what it lost).
- **Nonce.** A post carries a nonce derived from (schedule, fire time, manual), so re-posting an
  occurrence after a crash between the post and its commit makes Discord return the first
  message instead of creating a second one — but only within Discord's nonce window (minutes).
  So an occurrence claimed before (its earlier attempt may have reached Discord) is first looked
  for among the channel's recent messages from the bot (the scheduler does it).
- **Next fire.** Claiming a cadence occurrence records the schedule's next fire time, so the
  cadence never depends on whether a post succeeds.
- **Catch-up.** At start-up every fire time since the last recorded one is recorded: those older
  than the catch-up window (6 h) as missed, the rest as pending. Due occurrences of one schedule
  are coalesced: only the latest is posted (late, saying when it was meant for), the earlier ones
  are recorded as missed. Manual runs and interrupted claims are never coalesced away (an
  interrupted one may already be visible; re-posting it with its nonce finds that message).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from bot.clock import Clock
from bot.domain.recurrence import Recurrence, from_canonical
from bot.domain.shards import Shards
from bot.services.goals import zone_named
from db.repositories.occurrences import (
    CLAIMED,
    MISSED,
    DueOccurrence,
    NewOccurrence,
    NudgePlan,
    Occurrence,
    OccurrenceRepository,
)
from db.repositories.schedules import Schedule, ScheduleRepository, ZonedSchedule

log = logging.getLogger(__name__)

#: How long a claim holds an occurrence; a worker that dies is replaced after this.
LEASE = timedelta(seconds=120)
#: Occurrences missed by less than this are still posted (late); older ones are recorded missed.
CATCH_UP_WINDOW = timedelta(hours=6)
#: A post more than this after its fire time is late and says when it was meant for.
LATE_AFTER = timedelta(minutes=1)
#: After long downtime only this much history is recorded, and at most this many fire times.
BACKFILL_HORIZON = timedelta(days=7)
BACKFILL_LIMIT = 200
#: Claims of one occurrence before it is given up as failed.
MAX_ATTEMPTS = 5

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def nonce_for(schedule_id: int, fire_at: datetime, manual: bool) -> str:
    """A Discord nonce (≤25 chars) that is the same every time this occurrence is posted."""
    key = f"cohort:{schedule_id}:{fire_at.isoformat()}:{int(manual)}".encode()
    number = int.from_bytes(hashlib.sha256(key).digest()[:12], "big")  # 96 bits
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
    return "c" + "".join(reversed(digits or ["0"]))


@lru_cache(maxsize=4096)
def recurrence_of(canonical: str) -> Recurrence:
    return from_canonical(canonical)


def next_fire(schedule: ZonedSchedule, after: datetime) -> datetime | None:
    return recurrence_of(schedule.schedule.recurrence).next_fire(
        after, zone_named(schedule.timezone)
    )


@dataclass(frozen=True)
class Firing:
    """An occurrence to post now; ``coalesced`` earlier missed ones are folded into it."""

    occurrence: Occurrence
    schedule: ZonedSchedule
    coalesced: int = 0
    #: Not to post: given up just now after MAX_ATTEMPTS claims (the moderators are told).
    given_up: bool = False


@dataclass(frozen=True)
class Claim:
    """An occurrence this worker holds until ``occurrence.lease_until``."""

    occurrence: Occurrence
    schedule: ZonedSchedule
    coalesced: int
    token: str

    @property
    def nonce(self) -> str:
        o = self.occurrence
        return nonce_for(o.schedule_id, o.fire_at, o.manual)

    def is_late(self, now: datetime) -> bool:
        return not self.occurrence.manual and now - self.occurrence.fire_at > LATE_AFTER


class OccurrenceService:
    def __init__(
        self,
        occurrences: OccurrenceRepository,
        schedules: ScheduleRepository,
        clock: Clock,
        *,
        lease: timedelta | None = None,
        window: timedelta = CATCH_UP_WINDOW,
    ) -> None:
        self._occurrences = occurrences
        self._schedules = schedules
        self._clock = clock
        # Read when built, not when defined, so a test launcher can shorten it.
        self.lease = lease or LEASE
        self.window = window

    # -- the cadence -------------------------------------------------------------------------

    async def arm_next(self, schedules: Sequence[ZonedSchedule], *, after: datetime) -> None:
        """Record each schedule's next fire time after `after` (if it has one)."""
        rows = []
        for zoned in schedules:
            fire_at = next_fire(zoned, after)
            if fire_at is not None:
                rows.append(NewOccurrence(zoned.schedule.id, fire_at))
        await self._occurrences.record(rows, self._clock.now())

    async def reschedule(self, schedules: Sequence[ZonedSchedule]) -> None:
        """Future fire times follow a changed timezone (or a resumed schedule starts again)."""
        now = self._clock.now()
        await self._occurrences.drop_pending([z.schedule.id for z in schedules], after=now)
        await self.arm_next(schedules, after=now)

    async def stop(self, schedule_ids: Sequence[int], outcome: str) -> None:
        """Paused or disabled: future fire times are forgotten, due ones recorded as missed."""
        await self._occurrences.drop_pending(schedule_ids, after=self._clock.now())
        await self._occurrences.miss_pending(schedule_ids, outcome)

    async def rebuild(self, shards: Shards | None = None) -> None:
        """Start-up: record every fire time since each schedule's last one, and its next.

        Older than the catch-up window → missed; inside it → pending (``due`` coalesces them).
        One read of schedules, one of last fire times, one batched insert. Only schedules of
        guilds `shards` covers (every guild by default): other processes catch up their own.
        """
        shards = shards or Shards()
        now = self._clock.now()
        window_start = now - self.window
        latest = await self._occurrences.latest_fire_times()
        rows: list[NewOccurrence] = []
        for zoned in await self._schedules.active_zoned():
            schedule = zoned.schedule
            if not shards.owns(schedule.guild_id):
                continue
            anchor = latest.get(schedule.id, schedule.created_at)
            if anchor > now:
                continue  # its next fire time is already recorded
            recurrence = recurrence_of(schedule.recurrence)
            tz = zone_named(zoned.timezone)
            start = max(anchor, now - BACKFILL_HORIZON)
            if start < window_start:
                old = recurrence.fires_between(start, window_start, tz, limit=BACKFILL_LIMIT)
                rows += [NewOccurrence(schedule.id, f, MISSED, "offline") for f in old]
            recent = recurrence.fires_between(max(start, window_start), now, tz)
            rows += [NewOccurrence(schedule.id, f) for f in recent]
            upcoming = recurrence.next_fire(now, tz)
            if upcoming is not None:
                rows.append(NewOccurrence(schedule.id, upcoming))
        await self._occurrences.record(rows, now)

    # -- firing ------------------------------------------------------------------------------

    async def due(self, shards: Shards | None = None) -> list[Firing]:
        """What to post now in the guilds `shards` covers (every guild by default). Records
        as missed what will not be posted (too old, coalesced, paused or disabled schedules,
        given up after repeated failures); those given up are returned too, marked
        ``given_up``, so that someone is told."""
        now = self._clock.now()
        too_old = now - self.window
        by_schedule: dict[int, list[DueOccurrence]] = defaultdict(list)
        shards = shards or Shards()
        found = await self._occurrences.due(now, shard_count=shards.count, shard_ids=shards.ids)
        for item in found:
            by_schedule[item.occurrence.schedule_id].append(item)
        firings: list[Firing] = []
        given_up: list[Firing] = []
        missed: dict[str, list[int]] = defaultdict(list)
        for items in by_schedule.values():
            schedule = items[0].schedule.schedule
            if not schedule.active:
                why = "paused" if schedule.paused else "disabled"
                missed[why] += [i.occurrence.id for i in items]
                continue
            cadence: list[DueOccurrence] = []
            for item in items:
                o = item.occurrence
                if o.fire_at < too_old:
                    missed["too-late"].append(o.id)
                elif o.state == CLAIMED:
                    if o.attempts >= MAX_ATTEMPTS:
                        missed["failed"].append(o.id)
                        given_up.append(Firing(o, item.schedule, given_up=True))
                    else:
                        firings.append(Firing(o, item.schedule))
                elif o.manual:
                    firings.append(Firing(o, item.schedule))
                else:
                    cadence.append(item)
            if cadence:  # oldest first: post the latest, fold the rest into it
                *earlier, latest = cadence
                missed["coalesced"] += [i.occurrence.id for i in earlier]
                firings.append(Firing(latest.occurrence, latest.schedule, len(earlier)))
        for outcome, ids in missed.items():
            count = await self._occurrences.mark_missed(ids, outcome, now)
            if count:
                log.info("%d occurrence(s) recorded as missed (%s)", count, outcome)
        return firings + given_up

    async def claim(self, firing: Firing, token: str) -> Claim | None:
        """Take the occurrence; None when another worker has it or it is no longer due.
        A cadence occurrence records the schedule's next fire time in the same step."""
        now = self._clock.now()
        occurrence = firing.occurrence
        upcoming = None if occurrence.manual else next_fire(firing.schedule, occurrence.fire_at)
        claimed = await self._occurrences.claim(
            occurrence.id,
            token,
            now,
            now + self.lease,
            then=NewOccurrence(occurrence.schedule_id, upcoming) if upcoming else None,
        )
        if claimed is None:
            return None
        return Claim(claimed, firing.schedule, firing.coalesced, token)

    async def sent(self, claim: Claim, message_id: int, nudges: Sequence[NudgePlan] = ()) -> bool:
        now = self._clock.now()
        return await self._occurrences.mark_sent(
            claim.occurrence.id,
            claim.token,
            message_id=message_id,
            sent_at=now,
            late=claim.is_late(now),
            coalesced=claim.coalesced,
            guild_id=claim.schedule.schedule.guild_id,
            nudges=nudges,
            attempt=claim.occurrence.attempts,
        )

    async def recorded_messages(self, message_ids: Sequence[int]) -> set[int]:
        """Messages other occurrences already recorded as theirs."""
        return await self._occurrences.recorded_messages(message_ids)

    async def retry_at(self, claim: Claim, at: datetime) -> None:
        """Hand the occurrence back to be claimed again from `at` (a failure worth retrying)."""
        await self._occurrences.extend(
            claim.occurrence.id, claim.token, at, attempt=claim.occurrence.attempts
        )

    async def give_up(self, claim: Claim, outcome: str) -> None:
        await self._occurrences.give_up(
            claim.occurrence.id, claim.token, outcome, attempt=claim.occurrence.attempts
        )

    async def run_now(self, schedule: Schedule) -> Occurrence:
        """A manual run: its own occurrence now; the cadence is not touched."""
        return await self._occurrences.add_manual(schedule.id, self._clock.now())

    async def history(self, schedule_id: int) -> list[Occurrence]:
        return await self._occurrences.for_schedule(schedule_id)

    async def wake_times(
        self, schedule_ids: Sequence[int] | None = None, shards: Shards | None = None
    ) -> dict[int, datetime]:
        shards = shards or Shards()
        return await self._occurrences.wake_times(
            schedule_ids, shard_count=shards.count, shard_ids=shards.ids
        )

    async def next_fire_times(self, schedule_ids: Sequence[int]) -> dict[int, datetime]:
        return await self._occurrences.next_fire_times(schedule_ids)
