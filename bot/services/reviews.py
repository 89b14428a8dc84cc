"""Peer-review exchange: submit, status, done, pause and resume, pairing a round, late
submissions, and moving reviews when a reviewer steps back.

A round is a study week. A member submits one link per round (submitting again updates it and
keeps its reviewers). Pairing (a review-pairing schedule or ``/review pair``) gives each
submission of a round its reviewers from the members who submitted that round and are not
paused (bot.domain.pairing). A scheduled pairing early in a week (the first two days) pairs the
week that just ended, so the default Monday pairing takes the previous week's submissions; it
also tops up anything else waiting. A pairing by hand pairs every submission waiting now: this
round's, and the last round's if it was never paired, whatever the weekday. A round is paired
once: pairing again only tops up what is new, and a submission that arrives after its round was
paired is assigned at once to the least-loaded reviewers. When a reviewer pauses or leaves the
server, their open reviews move to others.

Changes to one guild's rounds run one at a time (a lock per guild), so a pairing, a late
submission and a reassignment never interleave; the database's unique keys keep one submission
per member and round and one assignment per reviewer and submission in any case.

Nothing here imports discord or words a message: the service decides whom to tell what (a
``Notice`` names the recipient and the reviews it is about) and delivers it through the publisher
the Discord side attaches, which words it (cogs/_review_notices.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from bot.clock import Clock
from bot.domain import pairing
from bot.domain.weeks import StudyWeek
from bot.errors import DmsClosed, InvalidInput, NotFound
from bot.formatting import one_line
from bot.services.announcements import Post
from bot.services.goals import study_week
from db.repositories.guild_settings import GuildSettings, GuildSettingsRepository
from db.repositories.reviews import (
    FEEDBACK_MAX,
    LINK_MAX,
    NOTE_MAX,
    TITLE_MAX,
    NewReview,
    Pause,
    Review,
    ReviewsRepository,
    Submission,
)

log = logging.getLogger(__name__)

PAUSE_WEEKS_MAX = 12
#: How long a reviewer has for a review, from the moment it was assigned.
REVIEW_TIME = timedelta(days=7)
#: A scheduled pairing this early in a week is for the week that just ended.
PAIRING_LOOKBACK = timedelta(days=2)
#: Earlier rounds that count as history for repeat avoidance.
HISTORY_ROUNDS = 52
MAX_SUGGESTIONS = 25

NO_SUCH_REVIEW = (
    "There's no review of yours for that submission — pick one from the list as you type."
)
BAD_LINK = "The link must be a web address starting with http:// or https://."


# --------------------------------------------------------------------------- validation


def valid_link(text: str) -> str:
    """An http(s) address with a host: no spaces, controls, angle brackets or credentials."""
    link = text.strip()
    if not link:
        raise InvalidInput("Paste the link to your work, for example https://github.com/you/app.")
    if len(link) > LINK_MAX:
        raise InvalidInput(f"A link is at most {LINK_MAX} characters (yours has {len(link)}).")
    if any(ch.isspace() or ch in '<>"\\`' or unicodedata.category(ch)[0] == "C" for ch in link):
        raise InvalidInput(
            "A link can't contain spaces, quotes, angle brackets or hidden characters."
        )
    try:
        parts = urlsplit(link)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise InvalidInput(BAD_LINK) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidInput(BAD_LINK)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("A link can't contain a user name or password (the part before @).")
    return link


def _optional_text(text: str | None, limit: int, what: str) -> str | None:
    if text is None:
        return None
    cleaned = one_line(text)
    if len(cleaned) > limit:
        raise InvalidInput(f"The {what} is at most {limit} characters (yours has {len(cleaned)}).")
    return cleaned or None


def valid_title(text: str | None) -> str | None:
    return _optional_text(text, TITLE_MAX, "title")


def valid_note(text: str | None) -> str | None:
    return _optional_text(text, NOTE_MAX, "note")


def valid_feedback(text: str | None) -> str | None:
    return _optional_text(text, FEEDBACK_MAX, "feedback")


def valid_weeks(weeks: int) -> int:
    if not 1 <= weeks <= PAUSE_WEEKS_MAX:
        raise InvalidInput(f"A pause lasts 1 to {PAUSE_WEEKS_MAX} weeks.")
    return weeks


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, kw_only=True)
class Submitted:
    submission: Submission
    created: bool
    week: StudyWeek
    # Everyone on the submission now (kept ones and any assigned just now).
    reviews: tuple[Review, ...]
    # Assigned by this call (the round had been paired already).
    assigned: tuple[Review, ...] = ()
    # The round was paired but nobody could review it yet.
    waiting: bool = False
    paused_until: datetime | None = None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Status:
    week: StudyWeek
    submission: Submission | None
    reviews: tuple[Review, ...]
    owed: tuple[Review, ...]
    pause: Pause | None
    paired: bool
    now: datetime


@dataclass(frozen=True)
class Completed:
    review: Review
    newly: bool
    # How the author hears of it: "dm", "channel", or None (no way to tell them).
    told_by: str | None = None
    channel_id: int | None = None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class SteppedBack:
    """Open reviews of a member who paused or left: moved to others, or kept (nobody else
    could take them; a member who left has them dropped instead)."""

    moved: tuple[Review, ...] = ()
    kept: tuple[Review, ...] = ()
    dropped: int = 0
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Paused:
    until: datetime
    stepped_back: SteppedBack


@dataclass(frozen=True)
class PairOutcome:
    week: StudyWeek
    # False: the round had been paired before (this call only topped it up).
    first: bool
    submissions: int
    pool: int
    per_submission: int
    reviewers_each: int
    assigned: tuple[Review, ...]
    unpaired: tuple[Submission, ...]
    current_week: bool
    due_at: datetime | None
    channel_id: int | None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class ScheduledRound:
    """A round a scheduled pairing reports on. ``posted``: its assignments went to the
    reviews channel (when not, the schedule's own post lists them)."""

    outcome: PairOutcome
    posted: bool


# --------------------------------------------------------------------------- notices


@dataclass(frozen=True)
class RoundPaired:
    """What a pairing did (its outcome, without its notices) and whom it assigned."""

    outcome: PairOutcome


@dataclass(frozen=True)
class LateReviewers:
    """Reviewers given at once in a round paired already: to a late submission, and to any
    submission of the round still waiting for them."""

    week: StudyWeek
    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class MovedReviews:
    """Open reviews given to others because their reviewer paused or left."""

    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class ReviewFinished:
    """A review marked done, for its author."""

    review: Review


@dataclass(frozen=True)
class NewReviews:
    """A reviewer's new reviews, due or overdue as of ``now``."""

    reviews: tuple[Review, ...]
    now: datetime


ChannelNews = RoundPaired | LateReviewers | MovedReviews | ReviewFinished
DirectNews = NewReviews | ReviewFinished


@dataclass(frozen=True)
class ChannelNotice:
    """News for the reviews channel: one post, or a few when it is too long for one."""

    guild_id: int
    channel_id: int
    news: ChannelNews
    # Identifies the news: a retried post gets the nonce it had.
    key: tuple[object, ...]

    def nonce(self, part: int) -> str:
        return _nonce(*self.key, part)


@dataclass(frozen=True)
class DirectNotice:
    """A DM; ``fallback`` is posted instead when the member's DMs are closed."""

    guild_id: int
    user_id: int
    news: DirectNews
    nonce: str
    fallback: ChannelNotice | None = None


Notice = ChannelNotice | DirectNotice


def _nonce(*parts: object) -> str:
    """A message nonce (Discord allows 25 characters) that is the same for a retried post."""
    return "rv" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:23]


# --------------------------------------------------------------------------- delivery


class ReviewPublisher(Protocol):
    """The Discord side (cogs._publisher.DiscordPublisher): words a notice, then posts or
    sends the words."""

    def review_posts(self, notice: ChannelNotice) -> Sequence[Post]: ...

    def review_dm(self, notice: DirectNotice) -> str: ...

    async def post(self, guild_id: int, channel_id: int, post: Post, nonce: str) -> int: ...

    async def direct_message(self, user_id: int, text: str, nonce: str) -> None: ...


@dataclass(frozen=True)
class Delivered:
    message_ids: tuple[int, ...] = ()
    dms: int = 0
    failed: int = 0


# --------------------------------------------------------------------------- the service


class ReviewService:
    def __init__(
        self, reviews: ReviewsRepository, settings: GuildSettingsRepository, clock: Clock
    ) -> None:
        self._reviews = reviews
        self._settings = settings
        self._clock = clock
        self._publisher: ReviewPublisher | None = None
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def attach_publisher(self, publisher: ReviewPublisher) -> None:
        self._publisher = publisher

    # -- members -----------------------------------------------------------------------------

    async def current_week(self, guild_id: int) -> StudyWeek:
        return study_week(await self._settings.get(guild_id), self._clock.now())

    async def submit(
        self,
        guild_id: int,
        user_id: int,
        link: str,
        title: str | None = None,
        note: str | None = None,
    ) -> Submitted:
        """File (or update) the member's submission of this week's round. In a round that was
        paired already it gets its reviewers at once (least-loaded first)."""
        url = valid_link(link)
        clean_title, clean_note = valid_title(title), valid_note(note)
        async with self._locks[guild_id]:
            settings = await self._settings.get(guild_id)
            now = self._clock.now()
            week = study_week(settings, now)
            # Using Cohort again means the member is back in the server.
            await self._reviews.clear_pause(guild_id, user_id, reason="left")
            submission, created = await self._reviews.submit(
                guild_id, user_id, week.key, url, clean_title, clean_note, now
            )
            assigned: tuple[Review, ...] = ()
            waiting = False
            notices: tuple[Notice, ...] = ()
            if await self._reviews.is_paired(guild_id, week.key):
                assigned, waiting, notices = await self._late(settings, week, submission, now)
            reviews = tuple(await self._reviews.reviews_of(guild_id, submission.id))
            pause = await self._reviews.pause_of(guild_id, user_id)
        return Submitted(
            submission=submission,
            created=created,
            week=week,
            reviews=reviews,
            assigned=assigned,
            waiting=waiting,
            paused_until=pause.until if pause and pause.reason == "paused" else None,
            notices=notices,
        )

    async def status(self, guild_id: int, user_id: int) -> Status:
        """The member's latest submission (this round or the last) with its reviewers, and
        the reviews they owe."""
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        week = study_week(settings, now)
        submission = await self._reviews.latest_submission(guild_id, user_id, week.previous().key)
        reviews: tuple[Review, ...] = ()
        paired = False
        if submission is not None:
            reviews = tuple(await self._reviews.reviews_of(guild_id, submission.id))
            paired = await self._reviews.is_paired(guild_id, submission.round_key)
        owed = tuple(await self._reviews.owed(guild_id, [user_id]))
        pause = await self._reviews.pause_of(guild_id, user_id)
        if pause is not None and pause.until is not None and pause.until <= now:
            pause = None
        return Status(week, submission, reviews, owed, pause, paired, now)

    async def owed_suggestions(self, guild_id: int, user_id: int, typed: str) -> list[Review]:
        """Reviews the member owes matching what was typed (for autocomplete)."""
        needle = one_line(typed).casefold()
        owed = await self._reviews.owed(guild_id, [user_id])
        return [
            r
            for r in owed
            if not needle
            or needle in (r.submission.title or "").casefold()
            or needle in r.submission.url.casefold()
            or needle == str(r.submission.id)
        ][:MAX_SUGGESTIONS]

    async def done(
        self, guild_id: int, user_id: int, submission_id: int, feedback: str | None = None
    ) -> Completed:
        """Record the member's review of a submission; the author is told (by DM when they
        turned reminders on, else in the reviews channel)."""
        text = valid_feedback(feedback)
        outcome = await self._reviews.complete(
            guild_id, user_id, submission_id, text, self._clock.now()
        )
        if outcome is None:
            raise NotFound(NO_SUCH_REVIEW)
        review, newly = outcome
        if not newly:
            return Completed(review, False)
        settings = await self._settings.get(guild_id)
        told_by, notices = await self._tell_author(settings, review)
        return Completed(review, True, told_by, _channel(settings), notices)

    async def pause(self, guild_id: int, user_id: int, weeks: int) -> Paused:
        """No reviews for the member until then; their open reviews move to others."""
        until = self._clock.now() + timedelta(weeks=valid_weeks(weeks))
        async with self._locks[guild_id]:
            await self._reviews.set_pause(guild_id, user_id, until, "paused", self._clock.now())
            stepped = await self._step_back(guild_id, user_id, drop=False)
        return Paused(until, stepped)

    async def resume(self, guild_id: int, user_id: int) -> bool:
        """Back in reviewer pools; False when the member was not paused."""
        return await self._reviews.clear_pause(guild_id, user_id)

    async def member_left(self, guild_id: int, user_id: int) -> SteppedBack:
        """Out of future pools until they use Cohort again; open reviews move to others."""
        async with self._locks[guild_id]:
            await self._reviews.set_pause(guild_id, user_id, None, "left", self._clock.now())
            return await self._step_back(guild_id, user_id, drop=True)

    async def member_departed(self, guild_id: int, user_id: int) -> None:
        """The departure hook (GuildLifecycleService): step back, then tell whom it concerns."""
        stepped = await self.member_left(guild_id, user_id)
        await self.deliver(stepped.notices)

    # -- pairing -----------------------------------------------------------------------------

    async def round_to_pair(self, guild_id: int, at: datetime | None = None) -> StudyWeek:
        """The round a scheduled pairing at `at` is for: the one that just ended when `at`
        falls in the first two days of a week, else the current one."""
        settings = await self._settings.get(guild_id)
        return _round_at(settings, at or self._clock.now())

    async def pair(
        self, guild_id: int, *, at: datetime | None = None, by: int | None = None
    ) -> PairOutcome:
        """Pair one round (see ``round_to_pair``). Again: only what has fewer reviewers than
        it should (new submissions, or ones the pool was too small for) is topped up."""
        async with self._locks[guild_id]:
            settings = await self._settings.get(guild_id)
            week = _round_at(settings, at or self._clock.now())
            return await self._pair_round(settings, week, by)

    async def pair_waiting(self, guild_id: int, *, by: int | None = None) -> list[PairOutcome]:
        """A pairing by hand: every submission waiting for reviewers now, whatever the
        weekday — the last round's if it was never paired (or some of it still has nobody),
        then this round's. One outcome per round, oldest first."""
        async with self._locks[guild_id]:
            settings = await self._settings.get(guild_id)
            current = study_week(settings, self._clock.now())
            rounds = [w for w in (current.previous(),) if await self._waiting(guild_id, w)]
            rounds.append(current)
            return [await self._pair_round(settings, week, by) for week in rounds]

    async def _waiting(
        self, guild_id: int, week: StudyWeek, *, unpaired_counts: bool = True
    ) -> bool:
        """The round has a submission without any reviewer: never paired (when
        `unpaired_counts`), or the pool was too small when it was."""
        subs = await self._reviews.round_submissions(guild_id, week.key)
        if not subs:
            return False
        if not await self._reviews.is_paired(guild_id, week.key):
            return unpaired_counts
        reviewed = {r.submission.id for r in await self._reviews.round_reviews(guild_id, week.key)}
        return any(s.id not in reviewed for s in subs)

    async def _pair_round(
        self, settings: GuildSettings, week: StudyWeek, by: int | None
    ) -> PairOutcome:
        """Pair one round (caller holds the guild's lock)."""
        guild_id = settings.guild_id
        now = self._clock.now()
        current = study_week(settings, now).key == week.key
        subs = await self._reviews.round_submissions(guild_id, week.key)
        first = not await self._reviews.is_paired(guild_id, week.key)
        existing = await self._reviews.round_reviews(guild_id, week.key)
        pool = await self._pool(guild_id, subs, now)
        n = settings.reviewers_per_submission
        result = pairing.pair_round(
            [pairing.Submission(s.id, s.user_id) for s in subs],
            pool,
            n,
            await self._history(guild_id, week, [s.user_id for s in subs]),
            _seed(guild_id, week.key),
            [pairing.Assignment(r.submission.id, r.reviewer_id) for r in existing],
        )
        due = now + REVIEW_TIME
        added = await self._reviews.assign(
            guild_id,
            [NewReview(a.submission_id, a.reviewer_id) for a in result.assignments],
            now,
            due,
        )
        if subs:
            await self._reviews.mark_paired(guild_id, week.key, now, by)
        by_id = {s.id: s for s in subs}
        unpaired = tuple(by_id[i] for i in result.unpaired_submission_ids if i in by_id)
        if not first and not added:
            unpaired = ()  # told when the round was paired; nothing changed since
        channel_id = _channel(settings)
        outcome = PairOutcome(
            week=week,
            first=first,
            submissions=len(subs),
            pool=len(pool),
            per_submission=n,
            reviewers_each=result.reviewers_per_submission,
            assigned=tuple(added),
            unpaired=unpaired,
            current_week=current,
            due_at=due if added else None,
            channel_id=channel_id,
        )
        notices: list[Notice] = []
        if channel_id is not None and (added or unpaired):
            key = ("pair", guild_id, week.key, _ids(added))
            notices.append(ChannelNotice(guild_id, channel_id, RoundPaired(outcome), key))
        notices += await self._dm_reviewers(guild_id, added, "pair")
        return replace(outcome, notices=tuple(notices))

    async def scheduled_pairing(
        self, guild_id: int, fire_at: datetime
    ) -> tuple[ScheduledRound, ...]:
        """When a review-pairing schedule fires: pair the round (see ``round_to_pair``) and
        top up anything else waiting for reviewers, post the assignments in the reviews
        channel, DM reviewers. Returns the rounds the schedule's own post reports on."""
        async with self._locks[guild_id]:
            settings = await self._settings.get(guild_id)
            main = _round_at(settings, fire_at)
            current = study_week(settings, self._clock.now())
            rounds = {main.key: main}
            for week in (current.previous(), current):
                # This round is paired at its own time: only a paired one is topped up early.
                if week.key not in rounds and await self._waiting(
                    guild_id, week, unpaired_counts=week.key != current.key
                ):
                    rounds[week.key] = week
            outcomes = [
                await self._pair_round(settings, week, None) for _, week in sorted(rounds.items())
            ]
        reported: list[ScheduledRound] = []
        for outcome in outcomes:
            if outcome.week.key != main.key and not (outcome.assigned or outcome.unpaired):
                continue  # a top-up that found nothing: not worth a line
            delivered = await self.deliver(outcome.notices)
            posted = outcome.channel_id is not None and bool(delivered.message_ids)
            reported.append(ScheduledRound(outcome, posted))
        return tuple(reported)

    # -- figures for other features ----------------------------------------------------------

    async def reviews_done(self, guild_id: int, start: datetime, end: datetime) -> int:
        """Reviews marked done in [start, end) (the weekly summary's count)."""
        return await self._reviews.done_between(guild_id, start, end)

    async def pending_reviews(
        self, guild_id: int, user_ids: Sequence[int]
    ) -> dict[int, list[Review]]:
        """Each member's open reviews (for DM nudges)."""
        out: dict[int, list[Review]] = {}
        for review in await self._reviews.owed(guild_id, user_ids):
            out.setdefault(review.reviewer_id, []).append(review)
        return out

    async def overdue(self, guild_id: int) -> list[Review]:
        """Open reviews past their due time, oldest first."""
        return await self._reviews.overdue(guild_id, self._clock.now())

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, notices: Iterable[Notice]) -> Delivered:
        """Post and DM; a failure is logged and counted, never raised (the change is made)."""
        publisher = self._publisher
        notices = list(notices)
        if publisher is None:
            if notices:
                log.warning("no publisher attached: %s review notices not sent", len(notices))
            return Delivered(failed=len(notices))
        ids: list[int] = []
        dms = failed = 0
        for notice in notices:
            if isinstance(notice, DirectNotice):
                try:
                    text = publisher.review_dm(notice)
                    await publisher.direct_message(notice.user_id, text, notice.nonce)
                    dms += 1
                    continue
                except DmsClosed:
                    if notice.fallback is None:
                        continue
                    notice = notice.fallback
                except Exception:
                    log.warning("review DM to %s failed", notice.user_id, exc_info=True)
                    failed += 1
                    continue
            for part, post in enumerate(publisher.review_posts(notice)):
                try:
                    ids.append(
                        await publisher.post(
                            notice.guild_id, notice.channel_id, post, notice.nonce(part)
                        )
                    )
                except Exception:
                    log.warning(
                        "review post in channel %s failed", notice.channel_id, exc_info=True
                    )
                    failed += 1
        return Delivered(tuple(ids), dms, failed)

    # -- internals ---------------------------------------------------------------------------

    async def _pool(self, guild_id: int, subs: Sequence[Submission], now: datetime) -> list[int]:
        authors = sorted({s.user_id for s in subs})
        away = await self._reviews.away(guild_id, authors, now)
        return [a for a in authors if a not in away]

    async def _history(
        self, guild_id: int, week: StudyWeek, members: Sequence[int]
    ) -> list[pairing.PastPair]:
        since = week.key - timedelta(weeks=HISTORY_ROUNDS)
        past = await self._reviews.history(guild_id, week.key, since, members)
        return [
            pairing.PastPair(p.reviewer_id, p.author_id, _rounds_between(p.round_key, week.key))
            for p in past
        ]

    async def _late(
        self, settings: GuildSettings, week: StudyWeek, submission: Submission, now: datetime
    ) -> tuple[tuple[Review, ...], bool, tuple[Notice, ...]]:
        """Reviewers for a submission to a round that was paired already (caller holds the
        lock). Submissions of the round still waiting for reviewers are topped up too."""
        guild_id = settings.guild_id
        subs = await self._reviews.round_submissions(guild_id, week.key)
        existing = await self._reviews.round_reviews(guild_id, week.key)
        pool = await self._pool(guild_id, subs, now)
        n = settings.reviewers_per_submission
        k = max(0, min(n, len(pool) - 1))
        have: dict[int, int] = defaultdict(int)
        for r in existing:
            have[r.submission.id] += 1
        if k == 0 or have[submission.id] >= k:
            return (), have[submission.id] == 0, ()
        domain_subs = [pairing.Submission(s.id, s.user_id) for s in subs]
        current = [pairing.Assignment(r.submission.id, r.reviewer_id) for r in existing]
        history = await self._history(guild_id, week, [s.user_id for s in subs])
        seed = _seed(guild_id, week.key, submission.id)
        if any(have[s.id] < k for s in subs if s.id != submission.id):
            result = pairing.pair_round(domain_subs, pool, n, history, seed, current)
        else:
            target = pairing.Submission(submission.id, submission.user_id)
            result = pairing.assign_late(target, domain_subs, pool, n, history, current, seed)
        added = tuple(
            await self._reviews.assign(
                guild_id,
                [NewReview(a.submission_id, a.reviewer_id) for a in result.assignments],
                now,
                now + REVIEW_TIME,
            )
        )
        waiting = (
            not any(r.submission.id == submission.id for r in added) and not have[submission.id]
        )
        notices: list[Notice] = []
        channel_id = _channel(settings)
        if added and channel_id is not None:
            news = LateReviewers(week, added)
            notices.append(
                ChannelNotice(guild_id, channel_id, news, ("late", guild_id, _ids(added)))
            )
        notices += await self._dm_reviewers(guild_id, added, "late")
        return added, waiting, tuple(notices)

    async def _step_back(self, guild_id: int, user_id: int, *, drop: bool) -> SteppedBack:
        """Move the member's open reviews to others (caller holds the lock)."""
        owed = await self._reviews.owed(guild_id, [user_id])
        if not owed:
            return SteppedBack()
        settings = await self._settings.get(guild_id)
        now = self._clock.now()
        by_round: dict[date, list[Review]] = defaultdict(list)
        for review in owed:
            by_round[review.submission.round_key].append(review)
        moved: list[Review] = []
        kept: list[Review] = []
        for round_key, pending in sorted(by_round.items()):
            week = StudyWeek(round_key, study_week(settings, now).tz)
            subs = await self._reviews.round_submissions(guild_id, round_key)
            existing = await self._reviews.round_reviews(guild_id, round_key)
            pool = [m for m in await self._pool(guild_id, subs, now) if m != user_id]
            result = pairing.reassign(
                [pairing.Assignment(r.submission.id, user_id) for r in pending],
                [pairing.Submission(s.id, s.user_id) for s in subs],
                pool,
                await self._history(guild_id, week, [s.user_id for s in subs]),
                [pairing.Assignment(r.submission.id, r.reviewer_id) for r in existing],
                _seed(guild_id, round_key, user_id),
            )
            covered = {a.submission_id for a in result.assignments}
            replaced = [r.id for r in pending if r.submission.id in covered]
            moved += await self._reviews.assign(
                guild_id,
                [NewReview(a.submission_id, a.reviewer_id) for a in result.assignments],
                now,
                now + REVIEW_TIME,
                replacing=replaced,
            )
            kept += [r for r in pending if r.submission.id not in covered]
        dropped = 0
        if drop and kept:
            dropped = await self._reviews.drop_open(guild_id, [r.id for r in kept])
            kept = []
        notices: list[Notice] = []
        channel_id = _channel(settings)
        if moved and channel_id is not None:
            news = MovedReviews(tuple(moved))
            notices.append(
                ChannelNotice(guild_id, channel_id, news, ("move", guild_id, _ids(moved)))
            )
        notices += await self._dm_reviewers(guild_id, moved, "move")
        return SteppedBack(tuple(moved), tuple(kept), dropped, tuple(notices))

    async def _dm_reviewers(self, guild_id: int, added: Sequence[Review], why: str) -> list[Notice]:
        """One DM per reviewer with reminders on, listing their new reviews."""
        if not added:
            return []
        by_reviewer: dict[int, list[Review]] = defaultdict(list)
        for review in added:
            by_reviewer[review.reviewer_id].append(review)
        opted_in = await self._reviews.reminders_on(guild_id, list(by_reviewer))
        now = self._clock.now()
        notices: list[Notice] = []
        for reviewer_id in sorted(opted_in):
            mine = tuple(by_reviewer[reviewer_id])
            nonce = _nonce(why, guild_id, reviewer_id, _ids(mine))
            notices.append(DirectNotice(guild_id, reviewer_id, NewReviews(mine, now), nonce))
        return notices

    async def _tell_author(
        self, settings: GuildSettings, review: Review
    ) -> tuple[str | None, tuple[Notice, ...]]:
        guild_id = settings.guild_id
        news = ReviewFinished(review)
        channel_id = _channel(settings)
        public: ChannelNotice | None = None
        if channel_id is not None:
            public = ChannelNotice(guild_id, channel_id, news, ("done", guild_id, review.id))
        author = review.author_id
        if await self._reviews.reminders_on(guild_id, [author]):
            nonce = _nonce("done-dm", guild_id, review.id)
            return "dm", (DirectNotice(guild_id, author, news, nonce, public),)
        if public is not None:
            return "channel", (public,)
        return None, ()


def _round_at(settings: GuildSettings, at: datetime) -> StudyWeek:
    week = study_week(settings, at)
    return week.previous() if at - week.start_utc < PAIRING_LOOKBACK else week


def _channel(settings: GuildSettings) -> int | None:
    """Where review posts go: the reviews channel, else the announcements channel."""
    return settings.reviews_channel_id or settings.announcements_channel_id


def _rounds_between(earlier: date, later: date) -> int:
    """How many rounds ago `earlier` was (keys may drift when the week start changed)."""
    return max(1, math.ceil((later - earlier).days / 7))


def _seed(guild_id: int, round_key: date, *more: int) -> int:
    """The same pairing for the same round, whenever and wherever it runs."""
    text = ":".join(map(str, (guild_id, round_key.isoformat(), *more)))
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _ids(reviews: Sequence[Review]) -> str:
    return ",".join(str(r.id) for r in reviews)


__all__ = [
    "BAD_LINK",
    "NO_SUCH_REVIEW",
    "ChannelNews",
    "ChannelNotice",
    "Completed",
    "Delivered",
    "DirectNews",
    "DirectNotice",
    "LateReviewers",
    "MovedReviews",
    "NewReviews",
    "Notice",
    "PairOutcome",
    "Paused",
    "ReviewFinished",
    "ReviewPublisher",
    "ReviewService",
    "RoundPaired",
    "ScheduledRound",
    "Status",
    "SteppedBack",
    "Submitted",
]
