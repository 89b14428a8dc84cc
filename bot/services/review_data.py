"""Peer review's part of members' data and of the group's figures.

Exports a member's submissions, the reviews they gave and received and their pause; forgetting
them first hands the reviews they still owe to other reviewers (the review service's own
step-back, which uses the pairing rules and tells the new reviewers), then deletes their
submissions and keeps the reviews they gave for the authors, without their name. Also counts
reviews owed and overdue for /group overview and reviews per week for /group export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.clock import Clock
from bot.services.group import ReviewDebt, ReviewTally
from bot.services.member_data import ANONYMISED, REASSIGNED, Forgotten, moment, snowflake
from bot.services.reviews import ReviewService
from db.repositories.review_records import ReviewRecord, ReviewRecordsRepository


def _review(record: ReviewRecord, *, who: str) -> dict[str, Any]:
    return {
        "submission_id": record.submission_id,
        "round_start": moment(record.round_key),
        who: snowflake(record.author_id if who == "author_id" else record.reviewer_id),
        "assigned_at": moment(record.assigned_at),
        "due_at": moment(record.due_at),
        "done_at": moment(record.done_at),
        "feedback": record.feedback,
    }


class ReviewMemberData:
    def __init__(
        self, records: ReviewRecordsRepository, reviews: ReviewService, clock: Clock
    ) -> None:
        self._records = records
        self._reviews = reviews
        self._clock = clock

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        mine = await self._records.for_member(guild_id, user_id)
        return {
            "review_submissions": [
                {
                    "id": s.id,
                    "round_start": moment(s.round_key),
                    "link": s.url,
                    "title": s.title,
                    "note": s.note,
                    "created_at": moment(s.created_at),
                    "updated_at": moment(s.updated_at),
                }
                for s in mine.submissions
            ],
            "reviews_given": [_review(r, who="author_id") for r in mine.given],
            "reviews_received": [_review(r, who="reviewer_id") for r in mine.received],
            "review_pause": (
                {"until": moment(mine.paused_until), "reason": mine.pause_reason}
                if mine.pause_reason
                else None
            ),
        }

    async def forget_member(self, guild_id: int, user_id: int) -> list[Forgotten]:
        had_pause = await self._records.has_pause(guild_id, user_id)
        # Leaving takes them out of reviewer pools and reassigns what they owe.
        stepped = await self._reviews.member_left(guild_id, user_id)
        await self._reviews.deliver(stepped.notices)
        done = await self._records.forget(guild_id, user_id)
        return [
            Forgotten("peer-review submissions", done.submissions),
            Forgotten("reviews of your submissions", done.reviews_received),
            Forgotten("reviews you owed that nobody could take over",
                      stepped.dropped + done.open_reviews),
            Forgotten("review pause settings", int(had_pause)),
            Forgotten("reviews you gave (their authors keep them)", done.reviews_anonymised,
                      ANONYMISED),
            Forgotten("pairings you started", done.rounds_anonymised, ANONYMISED),
            Forgotten("reviews you owed", len(stepped.moved), REASSIGNED),
        ]  # fmt: skip

    async def purge_guild(self, guild_id: int) -> int:
        return await self._records.purge_guild(guild_id)

    # -- figures -----------------------------------------------------------------------------

    async def debts(self, guild_id: int) -> Mapping[int, ReviewDebt]:
        found = await self._records.debts(guild_id, self._clock.now())
        return {user_id: ReviewDebt(owed, overdue) for user_id, (owed, overdue) in found.items()}

    async def members(self, guild_id: int, after: int | None, limit: int) -> list[int]:
        return await self._records.member_ids(guild_id, after, limit)

    async def tallies(
        self, guild_id: int, user_ids: Sequence[int], first_day: date | None, last_day: date
    ) -> Mapping[tuple[int, date], ReviewTally]:
        found = await self._records.weekly_counts(guild_id, user_ids, first_day, last_day)
        return {key: ReviewTally(given, received) for key, (given, received) in found.items()}
