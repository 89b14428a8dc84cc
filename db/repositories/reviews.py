"""Peer review: submissions, assignments, paired rounds and pauses.

Every read and change names the guild, and changes made on a member's behalf name the member
too, so an id from another guild or of someone else's review matches nothing. A submission is
unique per member and round; submitting again updates that row (its assignments stay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.dialect import batches, insert
from db.schema import member_preferences
from db.schema.reviews import (
    FEEDBACK_MAX,
    LINK_MAX,
    NOTE_MAX,
    TITLE_MAX,
    review_assignments,
    review_pauses,
    review_rounds,
    review_submissions,
)
from db.types import AnyRow
from db.upsert import upsert

__all__ = [
    "FEEDBACK_MAX",
    "LINK_MAX",
    "NOTE_MAX",
    "TITLE_MAX",
    "NewReview",
    "PastReview",
    "Pause",
    "Review",
    "ReviewsRepository",
    "Submission",
]

_s = review_submissions
_a = review_assignments


@dataclass(frozen=True)
class Submission:
    id: int
    guild_id: int
    user_id: int
    round_key: date
    url: str
    title: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Review:
    """One reviewer on one submission (with the submission it is about)."""

    id: int
    reviewer_id: int
    assigned_at: datetime
    due_at: datetime
    done_at: datetime | None
    feedback: str | None
    submission: Submission

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def author_id(self) -> int:
        return self.submission.user_id

    def overdue(self, now: datetime) -> bool:
        return self.done_at is None and self.due_at <= now


@dataclass(frozen=True)
class PastReview:
    """``reviewer_id`` last reviewed ``author_id`` in the round ``round_key``."""

    reviewer_id: int
    author_id: int
    round_key: date


@dataclass(frozen=True)
class Pause:
    user_id: int
    until: datetime | None
    reason: str


@dataclass(frozen=True)
class NewReview:
    submission_id: int
    reviewer_id: int


_SUBMISSION = (
    _s.c.id,
    _s.c.guild_id,
    _s.c.user_id,
    _s.c.round_key,
    _s.c.url,
    _s.c.title,
    _s.c.note,
    _s.c.created_at,
    _s.c.updated_at,
)
_REVIEW = (
    _a.c.id.label("review_id"),
    _a.c.reviewer_id,
    _a.c.assigned_at,
    _a.c.due_at,
    _a.c.done_at,
    _a.c.feedback,
    *_SUBMISSION,
)


def _submission(row: AnyRow) -> Submission:
    m = row._mapping
    return Submission(**{c.name: m[c.name] for c in _SUBMISSION})


def _review(row: AnyRow) -> Review:
    m = row._mapping
    return Review(
        id=m["review_id"],
        reviewer_id=m["reviewer_id"],
        assigned_at=m["assigned_at"],
        due_at=m["due_at"],
        done_at=m["done_at"],
        feedback=m["feedback"],
        submission=_submission(row),
    )


def _reviews() -> Any:
    return select(*_REVIEW).select_from(_a.join(_s, _s.c.id == _a.c.submission_id))


class ReviewsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- submissions -------------------------------------------------------------------------

    async def submit(
        self,
        guild_id: int,
        user_id: int,
        round_key: date,
        url: str,
        title: str | None,
        note: str | None,
        now: datetime,
    ) -> tuple[Submission, bool]:
        """Create the member's submission of the round, or update it: (submission, created).

        A title or note left out (None) keeps the one stored. Concurrent submits leave one row.
        """
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    insert(conn.dialect.name, _s)
                    .values(
                        guild_id=guild_id,
                        user_id=user_id,
                        round_key=round_key,
                        url=url,
                        title=title,
                        note=note,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(*_SUBMISSION)
                )
            ).first()
            if row is not None:
                return _submission(row), True
            changes: dict[str, Any] = {"url": url, "updated_at": now}
            if title is not None:
                changes["title"] = title
            if note is not None:
                changes["note"] = note
            row = (
                await conn.execute(
                    update(_s)
                    .where(
                        _s.c.guild_id == guild_id,
                        _s.c.user_id == user_id,
                        _s.c.round_key == round_key,
                    )
                    .values(**changes)
                    .returning(*_SUBMISSION)
                )
            ).one()
        return _submission(row), False

    async def submission(self, guild_id: int, submission_id: int) -> Submission | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_SUBMISSION).where(_s.c.guild_id == guild_id, _s.c.id == submission_id)
                )
            ).first()
        return _submission(row) if row else None

    async def latest_submission(
        self, guild_id: int, user_id: int, since: date
    ) -> Submission | None:
        """The member's most recent submission in a round from `since` on."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_SUBMISSION)
                    .where(
                        _s.c.guild_id == guild_id,
                        _s.c.user_id == user_id,
                        _s.c.round_key >= since,
                    )
                    .order_by(_s.c.round_key.desc())
                    .limit(1)
                )
            ).first()
        return _submission(row) if row else None

    async def round_submissions(self, guild_id: int, round_key: date) -> list[Submission]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_SUBMISSION)
                .where(_s.c.guild_id == guild_id, _s.c.round_key == round_key)
                .order_by(_s.c.id)
            )
            return [_submission(row) for row in rows]

    async def has_submissions(self, guild_id: int, round_key: date) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                select(_s.c.id)
                .where(_s.c.guild_id == guild_id, _s.c.round_key == round_key)
                .limit(1)
            )
        return found is not None

    # -- assignments -------------------------------------------------------------------------

    async def round_reviews(self, guild_id: int, round_key: date) -> list[Review]:
        """Every assignment of the round (done ones included), by submission and reviewer."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _reviews()
                .where(_s.c.guild_id == guild_id, _s.c.round_key == round_key)
                .order_by(_s.c.id, _a.c.reviewer_id)
            )
            return [_review(row) for row in rows]

    async def reviews_of(self, guild_id: int, submission_id: int) -> list[Review]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _reviews()
                .where(_s.c.guild_id == guild_id, _a.c.submission_id == submission_id)
                .order_by(_a.c.assigned_at, _a.c.id)
            )
            return [_review(row) for row in rows]

    async def owed(self, guild_id: int, reviewer_ids: Sequence[int]) -> list[Review]:
        """Open reviews of these reviewers, oldest first."""
        out: list[Review] = []
        async with self._engine.connect() as conn:
            for chunk in batches(sorted(set(reviewer_ids))):
                rows = await conn.execute(
                    _reviews()
                    .where(
                        _a.c.guild_id == guild_id,
                        _a.c.reviewer_id.in_(chunk),
                        _a.c.done_at.is_(None),
                    )
                    .order_by(_a.c.due_at, _a.c.id)
                )
                out += [_review(row) for row in rows]
        out.sort(key=lambda r: (r.due_at, r.id))
        return out

    async def overdue(self, guild_id: int, now: datetime) -> list[Review]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _reviews()
                .where(_a.c.guild_id == guild_id, _a.c.done_at.is_(None), _a.c.due_at <= now)
                .order_by(_a.c.due_at, _a.c.id)
            )
            return [_review(row) for row in rows]

    async def history(
        self, guild_id: int, before: date, since: date, members: Sequence[int]
    ) -> list[PastReview]:
        """Who reviewed whom in rounds from `since` up to (not including) `before`, most recent
        round per (reviewer, author), for pairs where either is one of `members`."""
        if not members:
            return []
        reviewer, author = _a.c.reviewer_id, _s.c.user_id
        out: dict[tuple[int, int], date] = {}
        async with self._engine.connect() as conn:
            for chunk in batches(sorted(set(members))):
                rows = await conn.execute(
                    select(reviewer, author, func.max(_s.c.round_key).label("round_key"))
                    .select_from(_a.join(_s, _s.c.id == _a.c.submission_id))
                    .where(
                        _s.c.guild_id == guild_id,
                        _s.c.round_key < before,
                        _s.c.round_key >= since,
                        reviewer.in_(chunk) | author.in_(chunk),
                    )
                    .group_by(reviewer, author)
                )
                for row in rows:
                    key = (row.reviewer_id, row.user_id)
                    if key not in out or out[key] < row.round_key:
                        out[key] = row.round_key
        return [PastReview(r, a, k) for (r, a), k in sorted(out.items())]

    async def assign(
        self,
        guild_id: int,
        new: Sequence[NewReview],
        now: datetime,
        due_at: datetime,
        *,
        replacing: Sequence[int] = (),
    ) -> list[Review]:
        """Add assignments (a pair that exists already is skipped) and, in the same
        transaction, delete the open assignments `replacing` (ids) they stand in for."""
        async with self._engine.begin() as conn:
            if replacing:
                await conn.execute(
                    delete(_a).where(
                        _a.c.guild_id == guild_id,
                        _a.c.id.in_(list(replacing)),
                        _a.c.done_at.is_(None),
                    )
                )
            ids: list[int] = []
            if new:
                rows = await conn.execute(
                    insert(conn.dialect.name, _a).on_conflict_do_nothing().returning(_a.c.id),
                    [
                        {
                            "submission_id": item.submission_id,
                            "guild_id": guild_id,
                            "reviewer_id": item.reviewer_id,
                            "assigned_at": now,
                            "due_at": due_at,
                        }
                        for item in new
                    ],
                )
                ids = [review_id for (review_id,) in rows]
            return await _reviews_by_id(conn, ids)

    async def drop_open(self, guild_id: int, review_ids: Sequence[int]) -> int:
        """Delete open assignments (a reviewer left and nobody can take them over)."""
        if not review_ids:
            return 0
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(_a).where(
                    _a.c.guild_id == guild_id,
                    _a.c.id.in_(list(review_ids)),
                    _a.c.done_at.is_(None),
                )
            )
        return int(result.rowcount or 0)

    async def complete(
        self,
        guild_id: int,
        reviewer_id: int,
        submission_id: int,
        feedback: str | None,
        now: datetime,
    ) -> tuple[Review, bool] | None:
        """Mark the reviewer's review of a submission done: (review, True) when it was open,
        (review, False) when it was done already (unchanged); None when there is no such
        review of theirs in this guild."""
        mine = (
            (_a.c.guild_id == guild_id)
            & (_a.c.reviewer_id == reviewer_id)
            & (_a.c.submission_id == submission_id)
        )
        async with self._engine.begin() as conn:
            review_id = await conn.scalar(
                update(_a)
                .where(mine, _a.c.done_at.is_(None))
                .values(done_at=now, feedback=feedback)
                .returning(_a.c.id)
            )
            newly = review_id is not None
            if not newly:
                review_id = await conn.scalar(select(_a.c.id).where(mine))
            if review_id is None:
                return None
            (review,) = await _reviews_by_id(conn, [review_id])
        return review, newly

    async def done_between(self, guild_id: int, start: datetime, end: datetime) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).where(
                    _a.c.guild_id == guild_id, _a.c.done_at >= start, _a.c.done_at < end
                )
            )
        return int(count or 0)

    # -- rounds ------------------------------------------------------------------------------

    async def mark_paired(
        self, guild_id: int, round_key: date, now: datetime, by: int | None
    ) -> bool:
        """Record that the round was paired; False when it had been already."""
        async with self._engine.begin() as conn:
            inserted = await conn.scalar(
                insert(conn.dialect.name, review_rounds)
                .values(guild_id=guild_id, round_key=round_key, paired_at=now, paired_by=by)
                .on_conflict_do_nothing()
                .returning(review_rounds.c.round_key)
            )
        return inserted is not None

    async def is_paired(self, guild_id: int, round_key: date) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                select(review_rounds.c.paired_at).where(
                    review_rounds.c.guild_id == guild_id, review_rounds.c.round_key == round_key
                )
            )
        return found is not None

    # -- pauses ------------------------------------------------------------------------------

    async def set_pause(
        self, guild_id: int, user_id: int, until: datetime | None, reason: str, now: datetime
    ) -> Pause:
        values = {
            "guild_id": guild_id,
            "user_id": user_id,
            "until": until,
            "reason": reason,
            "created_at": now,
        }
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    review_pauses,
                    values,
                    conflict=["guild_id", "user_id"],
                    update=["until", "reason", "created_at"],
                )
            )
        return Pause(user_id, until, reason)

    async def clear_pause(self, guild_id: int, user_id: int, *, reason: str | None = None) -> bool:
        """Remove the member's pause (only of that `reason`, if given); False if none."""
        where = [review_pauses.c.guild_id == guild_id, review_pauses.c.user_id == user_id]
        if reason is not None:
            where.append(review_pauses.c.reason == reason)
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(review_pauses).where(*where))
        return bool(result.rowcount)

    async def pause_of(self, guild_id: int, user_id: int) -> Pause | None:
        p = review_pauses
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(p.c.user_id, p.c.until, p.c.reason).where(
                        p.c.guild_id == guild_id, p.c.user_id == user_id
                    )
                )
            ).first()
        return Pause(row.user_id, row.until, row.reason) if row else None

    async def away(self, guild_id: int, user_ids: Sequence[int], now: datetime) -> set[int]:
        """Which of these members are out of reviewer pools now (paused, or left)."""
        p = review_pauses
        out: set[int] = set()
        async with self._engine.connect() as conn:
            for chunk in batches(sorted(set(user_ids))):
                rows = await conn.execute(
                    select(p.c.user_id).where(
                        p.c.guild_id == guild_id,
                        p.c.user_id.in_(chunk),
                        p.c.until.is_(None) | (p.c.until > now),
                    )
                )
                out.update(user_id for (user_id,) in rows)
        return out

    # -- preferences -------------------------------------------------------------------------

    async def reminders_on(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        """Which of these members turned DM reminders on."""
        mp = member_preferences
        out: set[int] = set()
        async with self._engine.connect() as conn:
            for chunk in batches(sorted(set(user_ids))):
                rows = await conn.execute(
                    select(mp.c.user_id).where(
                        mp.c.guild_id == guild_id,
                        mp.c.user_id.in_(chunk),
                        mp.c.reminders_enabled.is_(True),
                    )
                )
                out.update(user_id for (user_id,) in rows)
        return out


async def _reviews_by_id(conn: AsyncConnection, ids: Sequence[int]) -> list[Review]:
    out: list[Review] = []
    for chunk in batches(list(ids)):
        rows = await conn.execute(_reviews().where(_a.c.id.in_(chunk)))
        out += [_review(row) for row in rows]
    out.sort(key=lambda r: (r.submission.id, r.reviewer_id))
    return out
