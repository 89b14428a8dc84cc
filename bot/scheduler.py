"""The scheduler: fires due occurrences, posts them once, and sends the DM nudges.

The database is the truth (bot/services/occurrences.py). APScheduler 3's AsyncIOScheduler is
only the timer: one DateTrigger job per schedule (``schedule:{id}``) at its next wake-up time as
read from the database, rebuilt at start-up and whenever schedules change, plus a periodic sweep
that catches anything a timer missed. A wake-up never trusts the timer: it asks the database
what is due (``run_due``), which tests also call directly after moving a FrozenClock.

Posting is sequenced per channel (Discord rate-limits per channel) and concurrent across
channels. Each post is claimed first, carries the occurrence's nonce (and, when claimed before,
is first looked for in the channel: the nonce only protects for minutes), is retried with backoff
on temporary failures inside its lease, and is marked sent with its message id. A deleted
channel, a lost permission or a post Discord refuses (AutoMod, an invalid body: any 4xx other
than 429) disables the schedule with the reason and tells the moderators once; none of those is
retried, as the same post would meet the same answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import secrets
import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.domain.shards import Shards
from bot.errors import DmsClosed
from bot.rate_share import RateShare, share_of
from bot.services.announcements import AnnouncementService, Post
from bot.services.background import Runtime
from bot.services.guild_settings import GuildSettingsService
from bot.services.nudges import NudgeService
from bot.services.occurrences import Claim, Firing, OccurrenceService
from bot.services.schedules import ScheduleService
from db.repositories.nudges import Nudge
from db.repositories.schedules import Schedule

log = logging.getLogger(__name__)

#: Backoff between attempts at one post after a temporary failure (all inside the lease).
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)
#: After the retries inside a lease are spent, the occurrence is claimable again after this.
RETRY_LATER = timedelta(minutes=1)
#: How often the database is swept for due work whatever the timers say (seconds).
SWEEP_SECONDS = 30.0
#: A timer whose occurrence is due but not yet claimed checks again after this.
RECHECK = timedelta(seconds=30)
#: DM pacing: at most one DM per interval, plus random jitter (seconds).
DM_INTERVAL = 1.0
DM_JITTER = 0.25
NUDGE_BATCH = 50
#: Claims and records of posts running at once (below the connection pool's size).
DB_SLOTS = 4
#: On shutdown, posts already under way get this long to finish and be recorded (seconds).
STOP_GRACE = 5.0


class PostFailed(Exception):
    """A post did not go out. ``outcome`` is recorded on the occurrence."""

    outcome = "failed"


class TemporaryFailure(PostFailed):
    """Discord was unavailable or rate-limited beyond its own retries: try again."""


class ChannelGone(PostFailed):
    """The channel no longer exists (Discord 10003, or deleted)."""

    outcome = "channel-gone"


class NoAccess(PostFailed):
    """The bot may not post there any more (Discord 50001 / 50013)."""

    outcome = "no-access"


class Refused(PostFailed):
    """Discord refused the post itself (a 4xx other than 429: AutoMod 200000/200001, an
    invalid body 50035, ...). Sending it again would be refused again: never retried."""

    outcome = "refused"

    def __init__(self, said: str, status: int = 400, code: int = 0) -> None:
        super().__init__(said)
        self.said = said
        self.status = status
        self.code = code

    @property
    def explained(self) -> str:
        """What Discord said, for moderators."""
        what = AUTOMOD.get(self.code)
        said = self.said.strip()[:120] or f"HTTP {self.status}"
        code = f"code {self.code}" if self.code else f"HTTP {self.status}"
        return f"{what}: “{said}” ({code})" if what else f"“{said}” ({code})"


#: Discord's AutoMod refusals, in words moderators recognise.
AUTOMOD = {
    200000: "AutoMod blocked it",
    200001: "AutoMod blocked its title",
}


class Publisher(Protocol):
    """Turns posts into Discord messages (the Discord side implements it)."""

    async def post(self, guild_id: int, channel_id: int, post: Post, nonce: str) -> int:
        """Post and return the message id; raises PostFailed subclasses."""
        ...

    async def direct_message(self, user_id: int, text: str, nonce: str) -> None:
        """DM a member; raises DmsClosed or PostFailed."""
        ...

    async def tell_owner(self, guild_id: int, text: str) -> bool:
        """DM the guild's owner; False when that is not possible either."""
        ...

    def guild_name(self, guild_id: int) -> str | None: ...

    def message_link(self, guild_id: int, channel_id: int, message_id: int) -> str: ...

    async def recent_posts(self, guild_id: int, channel_id: int, post: Post) -> list[int]:
        """Ids of the bot's recent messages in the channel that carry this post's marker,
        newest first ([] when the history cannot be read)."""
        ...


@dataclass(frozen=True)
class FireResult:
    """What happened to one occurrence: sent, skipped (someone else has it), disabled
    (its channel is unusable), retrying (a temporary failure) or failed (Discord refused it)."""

    occurrence_id: int
    status: str
    message_id: int | None = None
    reason: str | None = None


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def _deleted(channel_id: int) -> str:
    return f"its channel <#{channel_id}> was deleted."


def _process_token() -> str:
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{secrets.token_hex(4)}"[:40]


async def _passes(
    runtime: Runtime | None, wanted: asyncio.Event, work: Callable[[], Awaitable[Any]], what: str
) -> None:
    """Once connected, a pass of `work` each time `wanted` is set; a failed pass is logged and
    the next wake-up (at the latest the sweep) tries again."""
    if runtime is not None:
        await runtime.wait_until_ready()
    while True:
        await wanted.wait()
        wanted.clear()
        try:
            await work()
        except Exception:
            log.exception("%s pass failed; the next sweep retries", what)


class Scheduler:
    """A Background worker of the bot (started in setup_hook, stopped at close)."""

    def __init__(
        self,
        schedules: ScheduleService,
        occurrences: OccurrenceService,
        nudges: NudgeService,
        announcements: AnnouncementService,
        guild_settings: GuildSettingsService,
        clock: Clock,
        *,
        dm_interval: float = DM_INTERVAL,
        dm_jitter: float = DM_JITTER,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        sweep_seconds: float = SWEEP_SECONDS,
        shards: Shards | None = None,
    ) -> None:
        self._schedules = schedules
        self._occurrences = occurrences
        self._nudges = nudges
        self._announcements = announcements
        self._settings = guild_settings
        self._clock = clock
        self._dm_interval = dm_interval
        self._dm_jitter = dm_jitter
        self._retry_delays = tuple(retry_delays)
        self._sweep_seconds = sweep_seconds
        #: Only guilds on these shards are this process's to fire, catch up and nudge.
        self.shards = shards or Shards()
        # With some of the shards, posts keep to this process's share of the global limit.
        share = share_of(self.shards)
        self.rate = RateShare(share) if share is not None else None
        self.token = _process_token()
        self._publisher: Publisher | None = None
        self._timer: AsyncIOScheduler | None = None
        self._lanes: dict[int, _Lane] = {}
        # A burst of due posts would otherwise open a new database connection per channel.
        self._db_slots = asyncio.Semaphore(DB_SLOTS)
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[FireResult]] = set()
        self._wanted = asyncio.Event()
        self._nudges_wanted = asyncio.Event()
        self._nudge_lock = asyncio.Lock()
        self._next_dm_at = 0.0  # event-loop time before which no DM goes out
        self._woken: set[int] = set()
        self._loops: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def attach_publisher(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def start(self, runtime: Runtime | None = None) -> None:
        """Rebuild from the database, arm the timers, and start working once connected."""
        if self._timer is not None:
            return
        self._schedules.subscribe(self.rearm)
        await self._occurrences.rebuild(self.shards)
        self._timer = AsyncIOScheduler(timezone=UTC)
        self._timer.start()
        self._timer.add_job(
            self._sweep,
            "interval",
            seconds=self._sweep_seconds,
            id="sweep",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
        )
        await self.rearm(None)
        self._loops = [
            asyncio.create_task(
                _passes(runtime, self._wanted, self._dispatch, "scheduler"),
                name="cohort-scheduler",
            ),
            asyncio.create_task(
                _passes(runtime, self._nudges_wanted, self.run_nudges, "nudge"),
                name="cohort-nudges",
            ),
        ]
        self._wanted.set()
        self._nudges_wanted.set()

    async def stop(self) -> None:
        self._schedules.unsubscribe(self.rearm)
        if self._timer is not None:
            self._timer.shutdown(wait=False)
            self._timer = None
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        # A post that was sent should also be recorded: let firings under way finish first.
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
        in_flight = list(self._tasks)
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)

    # -- timers ------------------------------------------------------------------------------

    async def rearm(self, schedule_ids: Sequence[int] | None) -> None:
        """Point each schedule's timer at its next wake-up as recorded in the database
        (None: every schedule). Schedules with nothing pending lose their timer."""
        timer = self._timer
        if timer is None:
            return
        async with self._db_slots:
            wakes = await self._occurrences.wake_times(schedule_ids, self.shards)
        if schedule_ids is None:
            known = {int(job.id.split(":")[1]) for job in timer.get_jobs() if ":" in job.id}
            ids: Iterable[int] = known | set(wakes)
        else:
            ids = schedule_ids
        now = self._clock.now()
        for schedule_id in ids:
            job_id = f"schedule:{schedule_id}"
            at = wakes.get(schedule_id)
            if at is None:
                with contextlib.suppress(Exception):
                    timer.remove_job(job_id)
                continue
            # Times come from the injected clock; only the wait itself is real time.
            delay = at - now if at > now else RECHECK
            timer.add_job(
                self._wake,
                DateTrigger(run_date=datetime.now(UTC) + delay),
                args=(schedule_id,),
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def _wake(self, schedule_id: int) -> None:
        self._woken.add(schedule_id)
        self._wanted.set()

    async def _sweep(self) -> None:
        self._wanted.set()
        self._nudges_wanted.set()

    # -- firing ------------------------------------------------------------------------------

    async def run_due(self) -> list[FireResult]:
        """Fire everything due now and wait for it (tests call this after moving the clock)."""
        return list(await asyncio.gather(*await self._dispatch()))

    async def _dispatch(self) -> list[asyncio.Task[FireResult]]:
        woken, self._woken = self._woken, set()
        started = [
            self._spawn(self._fire(firing))
            for firing in await self._occurrences.due(self.shards)
            if firing.occurrence.id not in self._in_flight
        ]
        if woken:
            await self.rearm(sorted(woken))
        return started

    async def run_now(self, guild_id: int, schedule_id: int) -> FireResult:
        """`/schedule run`: a manual occurrence, posted now and waited for."""
        zoned, occurrence = await self._schedules.start_run(guild_id, schedule_id)
        return await self._spawn(self._fire(Firing(occurrence, zoned)))

    def _spawn(self, coro: Coroutine[Any, Any, FireResult]) -> asyncio.Task[FireResult]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @contextlib.asynccontextmanager
    async def _lane(self, channel_id: int) -> AsyncIterator[None]:
        """Posts to one channel go one after another; channels do not wait for each other."""
        lane = self._lanes.setdefault(channel_id, _Lane())
        lane.users += 1
        try:
            async with lane.lock:
                yield
        finally:
            lane.users -= 1
            if lane.users == 0:
                self._lanes.pop(channel_id, None)

    async def _fire(self, firing: Firing) -> FireResult:
        if firing.given_up:
            return await self._given_up(firing)
        occurrence_id = firing.occurrence.id
        if occurrence_id in self._in_flight:
            return FireResult(occurrence_id, "skipped", reason="already being posted")
        self._in_flight.add(occurrence_id)
        try:
            async with self._lane(firing.schedule.schedule.channel_id):
                async with self._db_slots:
                    claim = await self._occurrences.claim(firing, self.token)
                if claim is None:
                    return FireResult(occurrence_id, "skipped", reason="claimed elsewhere")
                result = await self._deliver(claim)
            # Its next fire time was recorded with the claim; a retry moved the lease.
            await self.rearm([claim.occurrence.schedule_id])
            return result
        finally:
            self._in_flight.discard(occurrence_id)

    async def _deliver(self, claim: Claim) -> FireResult:
        occurrence = claim.occurrence
        schedule = claim.schedule.schedule
        publisher = self._publisher
        if publisher is None:
            log.warning("no publisher attached; occurrence %s waits", occurrence.id)
            await self._occurrences.retry_at(claim, self._clock.now() + RETRY_LATER)
            return FireResult(occurrence.id, "retrying", reason="not connected yet")
        try:
            post = await self._announcements.build(
                claim.schedule,
                occurrence.fire_at,
                late=claim.is_late(self._clock.now()),
                coalesced=claim.coalesced,
                group_name=publisher.guild_name(schedule.guild_id) or "Study group",
            )
            plans = (
                await self._nudges.plan(claim.schedule, occurrence.fire_at)
                if schedule.kind == "checkin-prompt"
                else []
            )
            message_id = await self._earlier_post(publisher, claim, post)
            if message_id is None:
                message_id = await self._post(publisher, claim, post)
        except (ChannelGone, NoAccess, Refused) as exc:
            # Permanent: the next attempt would meet the same answer. Stop and say why.
            if isinstance(exc, Refused):
                log.warning("occurrence %s refused by Discord: %s", occurrence.id, exc.explained)
            await self._occurrences.give_up(claim, exc.outcome)
            reason = self._disabled_reason(schedule, exc)
            await self.disable([schedule], reason)
            return FireResult(occurrence.id, "disabled", reason=reason)
        except TemporaryFailure as exc:
            log.warning("occurrence %s not posted yet (%s); retrying later", occurrence.id, exc)
            await self._occurrences.retry_at(claim, self._clock.now() + RETRY_LATER)
            return FireResult(occurrence.id, "retrying", reason=str(exc))
        except PostFailed as exc:
            log.warning("occurrence %s refused by Discord: %s", occurrence.id, exc)
            await self._occurrences.give_up(claim, exc.outcome)
            return FireResult(occurrence.id, "failed", reason=str(exc))
        except Exception:
            log.exception("occurrence %s of schedule %s failed", occurrence.id, schedule.id)
            await self._occurrences.retry_at(claim, self._clock.now() + RETRY_LATER)
            return FireResult(occurrence.id, "retrying", reason="unexpected error")
        async with self._db_slots:
            recorded = await self._occurrences.sent(claim, message_id, plans)
        if not recorded:
            # Our lease ran out and another worker took over: the nonce made its post the same
            # message, and it records it.
            log.warning("occurrence %s was taken over before it was recorded", occurrence.id)
        if plans:
            self._nudges_wanted.set()
        return FireResult(occurrence.id, "sent", message_id=message_id)

    async def _earlier_post(self, publisher: Publisher, claim: Claim, post: Post) -> int | None:
        """The message an earlier attempt at this occurrence left in the channel, if any.

        Discord deduplicates a repeated nonce only for a few minutes; an occurrence claimed
        before (a crash, an outage, lost answers) may be re-sent much later. So it is first
        looked for among the channel's recent messages from the bot, skipping those other
        occurrences recorded as theirs."""
        if claim.occurrence.attempts <= 1:
            return None
        schedule = claim.schedule.schedule
        found = await publisher.recent_posts(schedule.guild_id, schedule.channel_id, post)
        if not found:
            return None
        async with self._db_slots:
            taken = await self._occurrences.recorded_messages(found)
        mine = next((message_id for message_id in found if message_id not in taken), None)
        if mine is not None:
            log.info("occurrence %s was posted before as %s", claim.occurrence.id, mine)
        return mine

    async def _post(self, publisher: Publisher, claim: Claim, post: Post) -> int:
        """Post with bounded retries on temporary failures, all inside the claim's lease."""
        schedule = claim.schedule.schedule
        lease_until = claim.occurrence.lease_until
        for delay in (*self._retry_delays, None):
            try:
                if self.rate is not None:
                    await self.rate.take()
                return await publisher.post(
                    schedule.guild_id, schedule.channel_id, post, claim.nonce
                )
            except TemporaryFailure:
                left = (lease_until - self._clock.now()).total_seconds() if lease_until else 0
                if delay is None or delay * 2 > left:
                    raise
                log.info(
                    "post of occurrence %s failed, retrying in %ss", claim.occurrence.id, delay
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _given_up(self, firing: Firing) -> FireResult:
        """Discord stayed unavailable for every attempt: the post is dropped, not silently."""
        occurrence = firing.occurrence
        schedule = firing.schedule.schedule
        when = int(occurrence.fire_at.timestamp())
        reason = (
            f"Discord was unavailable for all {occurrence.attempts} attempts at posting it "
            f"in <#{schedule.channel_id}>."
        )
        log.warning("occurrence %s of schedule %s given up", occurrence.id, schedule.id)
        await self.tell_moderators(
            schedule.guild_id,
            f"⚠️ Cohort could not post schedule #{schedule.id} ({schedule.kind}) meant for "
            f"<t:{when}:f>: {reason} It posts again at its next time; `/schedule run` posts "
            "it now.",
        )
        return FireResult(occurrence.id, "failed", reason=reason)

    # -- broken channels ---------------------------------------------------------------------

    @staticmethod
    def _disabled_reason(schedule: Schedule, error: PostFailed) -> str:
        if isinstance(error, ChannelGone):
            return _deleted(schedule.channel_id)
        if isinstance(error, Refused):
            return f"Discord refused its post in <#{schedule.channel_id}>: {error.explained}."
        return f"I can no longer post in <#{schedule.channel_id}> (missing permissions)."

    async def channel_deleted(self, guild_id: int, channel_id: int) -> list[Schedule]:
        """A channel was deleted: its schedules are disabled and moderators told."""
        schedules = await self._schedules.in_channel(guild_id, channel_id)
        return await self.disable(schedules, _deleted(channel_id))

    async def disable(self, schedules: Sequence[Schedule], reason: str) -> list[Schedule]:
        disabled = await self._schedules.disable([s.id for s in schedules], reason)
        by_guild: dict[int, list[Schedule]] = defaultdict(list)
        for schedule in disabled:
            by_guild[schedule.guild_id].append(schedule)
        for guild_id, items in by_guild.items():
            listed = ", ".join(f"#{s.id} ({s.kind})" for s in items)
            await self.tell_moderators(
                guild_id,
                f"⚠️ Cohort stopped schedule{'s' if len(items) > 1 else ''} {listed}: {reason} "
                "Moderators: see `/schedule list`, then `/schedule resume` once it's fixed or "
                "`/schedule remove`.",
            )
        return disabled

    async def tell_moderators(self, guild_id: int, text: str) -> None:
        """In the announcements channel, or by DM to the owner when that is not possible."""
        publisher = self._publisher
        if publisher is None:
            return
        channel_id = (await self._settings.get(guild_id)).announcements_channel_id
        if channel_id is not None:
            nonce = "m" + hashlib.sha256(f"{guild_id}:{text}".encode()).hexdigest()[:20]
            try:
                await publisher.post(guild_id, channel_id, Post(content=text), nonce)
                return
            except PostFailed as exc:
                log.info("cannot tell moderators of %s in their channel: %s", guild_id, exc)
        if not await publisher.tell_owner(guild_id, text):
            log.warning("could not tell anyone in guild %s: %s", guild_id, text)

    # -- DM nudges ---------------------------------------------------------------------------

    async def run_nudges(self) -> int:
        """Send every nudge that is due, paced; returns how many were sent."""
        async with self._nudge_lock:
            sent = 0
            while batch := await self._nudges.due(NUDGE_BATCH, self.shards):
                sent += await self._send_batch(batch)
            await self._arm_nudges()
            return sent

    async def _send_batch(self, batch: list[Nudge]) -> int:
        publisher = self._publisher
        if publisher is None:
            return 0
        by_prompt: dict[int, list[Nudge]] = defaultdict(list)
        for nudge in batch:
            by_prompt[nudge.occurrence_id].append(nudge)
        remaining: dict[int, int] = {}
        sent = 0
        for nudges in by_prompt.values():
            first = nudges[0]
            link = (
                publisher.message_link(first.guild_id, first.channel_id, first.prompt_message_id)
                if first.prompt_message_id
                else None
            )
            texts = await self._nudges.texts(
                nudges,
                group_name=publisher.guild_name(first.guild_id) or "your study group",
                prompt_link=link,
            )
            for nudge in nudges:
                if nudge.guild_id not in remaining:
                    remaining[nudge.guild_id] = await self._nudges.remaining_today(nudge.guild_id)
                text = texts.get(nudge.user_id)
                if text is None or remaining[nudge.guild_id] <= 0:
                    await self._nudges.skip(nudge)  # checked in already, or the daily cap
                    continue
                if not await self._nudges.claim(nudge):
                    continue
                await self._pace()
                if self.rate is not None:
                    await self.rate.take()
                state = await self._dm(publisher, nudge, text)
                await self._nudges.finish(nudge, state)
                if state == "sent":
                    sent += 1
                    remaining[nudge.guild_id] -= 1
        return sent

    async def _pace(self) -> None:
        """At most one DM per interval (plus jitter), across batches and prompts."""
        loop = asyncio.get_running_loop()
        wait = self._next_dm_at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_dm_at = loop.time() + self._dm_interval + random.uniform(0, self._dm_jitter)

    @staticmethod
    async def _dm(publisher: Publisher, nudge: Nudge, text: str) -> str:
        nonce = "n" + hashlib.sha256(f"{nudge.occurrence_id}:{nudge.user_id}".encode()).hexdigest()
        try:
            await publisher.direct_message(nudge.user_id, text, nonce[:25])
        except DmsClosed:
            return "dms-closed"
        except Exception:
            log.warning("nudge DM to %s failed", nudge.user_id, exc_info=True)
            return "failed"
        return "sent"

    async def _arm_nudges(self) -> None:
        timer = self._timer
        if timer is None:
            return
        at = await self._nudges.next_due()
        if at is None:
            with contextlib.suppress(Exception):
                timer.remove_job("nudges")
            return
        now = self._clock.now()
        delay = at - now if at > now else RECHECK
        timer.add_job(
            self._sweep,
            DateTrigger(run_date=datetime.now(UTC) + delay),
            id="nudges",
            replace_existing=True,
            misfire_grace_time=None,
        )
