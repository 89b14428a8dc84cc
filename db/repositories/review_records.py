"""Peer-review rows as members' data and as group figures: what a member submitted, gave and
received, forgetting them, purging a guild, reviews owed and weekly counts.

Reviews a forgotten member gave stay for their authors under ``FORMER_MEMBER`` as the reviewer
(or, where that submission already has one such review, the negated review id, so the
one-reviewer-per-submission rule still holds and no real member is named).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.dialect import batches
from db.member_ids import member_page
from db.repositories.member_records import FORMER_MEMBER
from db.repositories.reviews import Submission
from db.schema.reviews import review_assignments, review_pauses, review_rounds, review_submissions

_s, _a = review_submissions, review_assignments
# Ids in one IN (…) list: well under both backends' parameter limits.


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    submission_id: int
    round_key: date
    author_id: int
    reviewer_id: int
    assigned_at: datetime
    due_at: datetime
    done_at: datetime | None
    feedback: str | None


@dataclass(frozen=True)
class MemberReviews:
    submissions: tuple[Submission, ...]
    given: tuple[ReviewRecord, ...]
    received: tuple[ReviewRecord, ...]
    paused_until: datetime | None
    pause_reason: str | None


@dataclass(frozen=True)
class ForgottenReviews:
    submissions: int
    reviews_received: int
    reviews_anonymised: int
    open_reviews: int
    pauses: int
    rounds_anonymised: int


def _reviews() -> Any:
    return select(
        _a.c.id,
        _a.c.submission_id,
        _s.c.round_key,
        _s.c.user_id.label("author_id"),
        _a.c.reviewer_id,
        _a.c.assigned_at,
        _a.c.due_at,
        _a.c.done_at,
        _a.c.feedback,
    ).select_from(_a.join(_s, _s.c.id == _a.c.submission_id))


class ReviewRecordsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def for_member(self, guild_id: int, user_id: int) -> MemberReviews:
        async with self._engine.connect() as conn:
            submissions = await conn.execute(
                select(
                    _s.c.id, _s.c.guild_id, _s.c.user_id, _s.c.round_key, _s.c.url, _s.c.title,
                    _s.c.note, _s.c.created_at, _s.c.updated_at,
                )
                .where(_s.c.guild_id == guild_id, _s.c.user_id == user_id)
                .order_by(_s.c.round_key, _s.c.id)
            )  # fmt: skip
            subs = tuple(Submission(*row) for row in submissions)
            given = await conn.execute(
                _reviews()
                .where(_a.c.guild_id == guild_id, _a.c.reviewer_id == user_id)
                .order_by(_a.c.assigned_at, _a.c.id)
            )
            given_records = tuple(ReviewRecord(*row) for row in given)
            received = await conn.execute(
                _reviews()
                .where(_s.c.guild_id == guild_id, _s.c.user_id == user_id)
                .order_by(_a.c.assigned_at, _a.c.id)
            )
            received_records = tuple(ReviewRecord(*row) for row in received)
            pause = (
                await conn.execute(
                    select(review_pauses.c.until, review_pauses.c.reason).where(
                        review_pauses.c.guild_id == guild_id, review_pauses.c.user_id == user_id
                    )
                )
            ).first()
        return MemberReviews(
            subs,
            given_records,
            received_records,
            pause.until if pause else None,
            pause.reason if pause else None,
        )

    async def has_pause(self, guild_id: int, user_id: int) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                select(func.count())
                .select_from(review_pauses)
                .where(review_pauses.c.guild_id == guild_id, review_pauses.c.user_id == user_id)
            )
        return bool(found)

    async def forget(self, guild_id: int, user_id: int) -> ForgottenReviews:
        """Delete the member's submissions (and the reviews of them), their pause and any open
        review they still hold; keep the reviews they gave, without their name."""
        async with self._engine.begin() as conn:
            own = select(_s.c.id).where(_s.c.guild_id == guild_id, _s.c.user_id == user_id)
            received = (await conn.execute(delete(_a).where(_a.c.submission_id.in_(own)))).rowcount
            submissions = (
                await conn.execute(
                    delete(_s).where(_s.c.guild_id == guild_id, _s.c.user_id == user_id)
                )
            ).rowcount
            open_reviews = (
                await conn.execute(
                    delete(_a).where(
                        _a.c.guild_id == guild_id,
                        _a.c.reviewer_id == user_id,
                        _a.c.done_at.is_(None),
                    )
                )
            ).rowcount
            former = _a.alias("former")
            taken = select(former.c.submission_id).where(former.c.reviewer_id == FORMER_MEMBER)
            anonymised = (
                await conn.execute(
                    update(_a)
                    .where(_a.c.guild_id == guild_id, _a.c.reviewer_id == user_id)
                    .values(
                        reviewer_id=case(
                            (_a.c.submission_id.in_(taken), -_a.c.id), else_=FORMER_MEMBER
                        )
                    )
                )
            ).rowcount
            pauses = (
                await conn.execute(
                    delete(review_pauses).where(
                        review_pauses.c.guild_id == guild_id, review_pauses.c.user_id == user_id
                    )
                )
            ).rowcount
            rounds = (
                await conn.execute(
                    update(review_rounds)
                    .where(
                        review_rounds.c.guild_id == guild_id,
                        review_rounds.c.paired_by == user_id,
                    )
                    .values(paired_by=FORMER_MEMBER)
                )
            ).rowcount
        return ForgottenReviews(
            int(submissions or 0),
            int(received or 0),
            int(anonymised or 0),
            int(open_reviews or 0),
            int(pauses or 0),
            int(rounds or 0),
        )

    async def purge_guild(self, guild_id: int) -> int:
        total = 0
        async with self._engine.begin() as conn:
            for table in (review_assignments, review_submissions, review_rounds, review_pauses):
                result = await conn.execute(delete(table).where(table.c.guild_id == guild_id))
                total += int(result.rowcount or 0)
        return total

    async def member_ids(self, guild_id: int, after: int | None, limit: int) -> list[int]:
        """The next `limit` members (by id, above `after`) who submitted or reviewed."""
        sources = [
            (_s.c.user_id, _s.c.guild_id == guild_id),
            (_a.c.reviewer_id, (_a.c.guild_id == guild_id) & (_a.c.reviewer_id > FORMER_MEMBER)),
        ]
        return await member_page(self._engine, sources, after, limit)

    async def debts(self, guild_id: int, now: datetime) -> dict[int, tuple[int, int]]:
        """Reviewer → (open reviews, of which overdue)."""
        overdue = func.sum(case((_a.c.due_at <= now, 1), else_=0))
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_a.c.reviewer_id, func.count(), overdue)
                .where(_a.c.guild_id == guild_id, _a.c.done_at.is_(None))
                .group_by(_a.c.reviewer_id)
            )
            return {reviewer: (int(owed), int(late or 0)) for reviewer, owed, late in rows}

    async def weekly_counts(
        self, guild_id: int, user_ids: Sequence[int], first_day: date | None, last_day: date
    ) -> dict[tuple[int, date], tuple[int, int]]:
        """(member, round key) → (reviews they completed, completed reviews of their work),
        counted in the round of the submission reviewed."""
        counts: dict[tuple[int, date], tuple[int, int]] = {}
        rounds = [_s.c.round_key <= last_day]
        if first_day is not None:
            rounds.append(_s.c.round_key >= first_day)
        joined = _a.join(_s, _s.c.id == _a.c.submission_id)
        async with self._engine.connect() as conn:
            for batch in batches(list(user_ids)):
                given = await conn.execute(
                    select(_a.c.reviewer_id, _s.c.round_key, func.count())
                    .select_from(joined)
                    .where(
                        and_(_a.c.guild_id == guild_id, _a.c.done_at.is_not(None), *rounds),
                        _a.c.reviewer_id.in_(batch),
                    )
                    .group_by(_a.c.reviewer_id, _s.c.round_key)
                )
                for user_id, round_key, n in given:
                    counts[(user_id, round_key)] = (int(n), 0)
                received = await conn.execute(
                    select(_s.c.user_id, _s.c.round_key, func.count())
                    .select_from(joined)
                    .where(
                        and_(_s.c.guild_id == guild_id, _a.c.done_at.is_not(None), *rounds),
                        _s.c.user_id.in_(batch),
                    )
                    .group_by(_s.c.user_id, _s.c.round_key)
                )
                for user_id, round_key, n in received:
                    before = counts.get((user_id, round_key), (0, 0))
                    counts[(user_id, round_key)] = (before[0], int(n))
        return counts
