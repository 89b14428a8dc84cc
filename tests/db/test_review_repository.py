"""Peer-review repository on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.engine import Database
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.reviews import NewReview, PastReview, ReviewsRepository, Submission
from db.schema.reviews import review_submissions

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
DUE = NOW + timedelta(days=7)
GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_009
SAM, ADA, BOB, CLEO = (1_200_000_000_000_000_000 + i for i in (1, 2, 3, 4))
WEEK = date(2026, 11, 16)
LAST_WEEK = WEEK - timedelta(days=7)


@pytest.fixture
def reviews(database: Database) -> ReviewsRepository:
    return ReviewsRepository(database.engine)


async def submit(
    reviews: ReviewsRepository, user: int, week: date = WEEK, guild: int = GUILD
) -> Submission:
    submission, _ = await reviews.submit(
        guild, user, week, f"https://example.com/{user}", f"Work of {user}", None, NOW
    )
    return submission


async def test_submitting_again_updates_the_same_row(reviews: ReviewsRepository) -> None:
    first, created = await reviews.submit(
        GUILD, SAM, WEEK, "https://a.example/1", "Café ☕ API", "look at auth", NOW
    )
    later = NOW + timedelta(hours=1)
    again, created_again = await reviews.submit(
        GUILD, SAM, WEEK, "https://a.example/2", None, None, later
    )
    assert created and not created_again
    assert again.id == first.id and again.url == "https://a.example/2"
    # Title and note left out keep the stored ones.
    assert (again.title, again.note) == ("Café ☕ API", "look at auth")
    assert again.created_at == NOW and again.updated_at == later
    next_round = await submit(reviews, SAM, WEEK + timedelta(days=7))
    assert next_round.id != first.id


async def test_concurrent_submits_leave_one_row(
    reviews: ReviewsRepository, database: Database
) -> None:
    results = await asyncio.gather(
        *(
            reviews.submit(GUILD, SAM, WEEK, f"https://a.example/{i}", None, None, NOW)
            for i in range(6)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({s.id for s, _ in results}) == 1
    async with database.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(review_submissions))
    assert count == 1


async def test_a_submission_is_found_only_in_its_guild(reviews: ReviewsRepository) -> None:
    mine = await submit(reviews, SAM)
    assert await reviews.submission(GUILD, mine.id) == mine
    assert await reviews.submission(OTHER_GUILD, mine.id) is None
    assert await reviews.round_submissions(OTHER_GUILD, WEEK) == []
    assert await reviews.latest_submission(GUILD, SAM, LAST_WEEK) == mine
    assert await reviews.latest_submission(GUILD, ADA, LAST_WEEK) is None


async def test_assign_skips_existing_pairs_and_lists_reviews(reviews: ReviewsRepository) -> None:
    sam, ada = await submit(reviews, SAM), await submit(reviews, ADA)
    added = await reviews.assign(
        GUILD, [NewReview(sam.id, ADA), NewReview(ada.id, SAM), NewReview(sam.id, BOB)], NOW, DUE
    )
    assert [(r.submission.id, r.reviewer_id) for r in added] == [
        (sam.id, ADA),
        (sam.id, BOB),
        (ada.id, SAM),
    ]
    again = await reviews.assign(GUILD, [NewReview(sam.id, ADA), NewReview(ada.id, BOB)], NOW, DUE)
    assert [(r.submission.id, r.reviewer_id) for r in again] == [(ada.id, BOB)]
    assert [r.reviewer_id for r in await reviews.reviews_of(GUILD, sam.id)] == [ADA, BOB]
    assert await reviews.reviews_of(OTHER_GUILD, sam.id) == []
    assert len(await reviews.round_reviews(GUILD, WEEK)) == 4
    (owed,) = await reviews.owed(GUILD, [SAM])
    assert owed.author_id == ADA and owed.due_at == DUE and not owed.done


async def test_complete_only_the_reviewers_own_review(reviews: ReviewsRepository) -> None:
    sam = await submit(reviews, SAM)
    await reviews.assign(GUILD, [NewReview(sam.id, ADA)], NOW, DUE)
    assert await reviews.complete(GUILD, BOB, sam.id, None, NOW) is None
    assert await reviews.complete(OTHER_GUILD, ADA, sam.id, None, NOW) is None
    done = await reviews.complete(GUILD, ADA, sam.id, "Nice tests 👍", NOW)
    assert done is not None
    review, newly = done
    assert newly and review.done_at == NOW and review.feedback == "Nice tests 👍"
    again = await reviews.complete(GUILD, ADA, sam.id, "changed", NOW + timedelta(hours=1))
    assert again is not None and not again[1]
    assert again[0].feedback == "Nice tests 👍" and again[0].done_at == NOW
    assert await reviews.owed(GUILD, [ADA]) == []


async def test_done_between_counts_a_guilds_reviews_in_the_window(
    reviews: ReviewsRepository,
) -> None:
    sam, other = await submit(reviews, SAM), await submit(reviews, SAM, guild=OTHER_GUILD)
    await reviews.assign(GUILD, [NewReview(sam.id, ADA), NewReview(sam.id, BOB)], NOW, DUE)
    await reviews.assign(OTHER_GUILD, [NewReview(other.id, ADA)], NOW, DUE)
    await reviews.complete(GUILD, ADA, sam.id, None, NOW)
    await reviews.complete(GUILD, BOB, sam.id, None, NOW + timedelta(days=7))
    await reviews.complete(OTHER_GUILD, ADA, other.id, None, NOW)
    start = datetime(2026, 11, 16, tzinfo=UTC)
    assert await reviews.done_between(GUILD, start, start + timedelta(days=7)) == 1
    assert await reviews.done_between(GUILD, start, start + timedelta(days=14)) == 2


async def test_history_keeps_the_latest_round_per_pair(reviews: ReviewsRepository) -> None:
    for week in (WEEK - timedelta(days=21), LAST_WEEK, WEEK):
        sam, ada = await submit(reviews, SAM, week), await submit(reviews, ADA, week)
        await reviews.assign(GUILD, [NewReview(sam.id, ADA), NewReview(ada.id, SAM)], NOW, DUE)
    cleo = await submit(reviews, CLEO, WEEK - timedelta(days=21))
    await reviews.assign(GUILD, [NewReview(cleo.id, BOB)], NOW, DUE)
    since = WEEK - timedelta(days=28)
    assert await reviews.history(GUILD, WEEK, since, [SAM]) == [
        PastReview(SAM, ADA, LAST_WEEK),
        PastReview(ADA, SAM, LAST_WEEK),
    ]
    # Older than `since` is left out; members filter either side of the pair.
    assert await reviews.history(GUILD, WEEK, LAST_WEEK, [BOB, CLEO]) == []
    assert await reviews.history(GUILD, WEEK, since, [BOB]) == [
        PastReview(BOB, CLEO, WEEK - timedelta(days=21))
    ]
    assert await reviews.history(OTHER_GUILD, WEEK, since, [SAM]) == []


async def test_assign_replacing_moves_only_open_reviews(reviews: ReviewsRepository) -> None:
    sam, ada = await submit(reviews, SAM), await submit(reviews, ADA)
    open_one, done_one = await reviews.assign(
        GUILD, [NewReview(sam.id, BOB), NewReview(ada.id, BOB)], NOW, DUE
    )
    await reviews.complete(GUILD, BOB, ada.id, None, NOW)
    moved = await reviews.assign(
        GUILD, [NewReview(sam.id, CLEO)], NOW, DUE, replacing=[open_one.id, done_one.id]
    )
    assert [r.reviewer_id for r in moved] == [CLEO]
    assert [r.reviewer_id for r in await reviews.reviews_of(GUILD, sam.id)] == [CLEO]
    assert [r.reviewer_id for r in await reviews.reviews_of(GUILD, ada.id)] == [BOB]
    (left,) = await reviews.owed(GUILD, [CLEO])
    assert await reviews.drop_open(GUILD, [left.id]) == 1
    assert await reviews.owed(GUILD, [CLEO]) == []


async def test_overdue_lists_open_reviews_past_due(reviews: ReviewsRepository) -> None:
    sam = await submit(reviews, SAM)
    await reviews.assign(GUILD, [NewReview(sam.id, ADA), NewReview(sam.id, BOB)], NOW, DUE)
    await reviews.complete(GUILD, BOB, sam.id, None, NOW)
    assert await reviews.overdue(GUILD, DUE - timedelta(seconds=1)) == []
    (late,) = await reviews.overdue(GUILD, DUE)
    assert late.reviewer_id == ADA and late.overdue(DUE)


async def test_a_round_is_marked_paired_once(reviews: ReviewsRepository) -> None:
    assert not await reviews.is_paired(GUILD, WEEK)
    results = await asyncio.gather(*(reviews.mark_paired(GUILD, WEEK, NOW, None) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert await reviews.is_paired(GUILD, WEEK)
    assert not await reviews.is_paired(OTHER_GUILD, WEEK)


async def test_pauses_and_departures_keep_members_out_of_pools(
    reviews: ReviewsRepository,
) -> None:
    await reviews.set_pause(GUILD, SAM, NOW + timedelta(weeks=2), "paused", NOW)
    await reviews.set_pause(GUILD, ADA, NOW - timedelta(seconds=1), "paused", NOW)
    await reviews.set_pause(GUILD, BOB, None, "left", NOW)
    assert await reviews.away(GUILD, [SAM, ADA, BOB, CLEO], NOW) == {SAM, BOB}
    assert await reviews.away(OTHER_GUILD, [SAM, BOB], NOW) == set()
    assert not await reviews.clear_pause(GUILD, SAM, reason="left")
    assert await reviews.clear_pause(GUILD, BOB, reason="left")
    assert await reviews.clear_pause(GUILD, SAM)
    assert await reviews.away(GUILD, [SAM, BOB], NOW) == set()
    assert await reviews.pause_of(GUILD, SAM) is None


async def test_reminders_on_reads_member_preferences(
    reviews: ReviewsRepository, database: Database
) -> None:
    preferences = MemberPreferencesRepository(database.engine)
    await preferences.set_reminders(GUILD, SAM, True, NOW)
    await preferences.set_reminders(GUILD, ADA, False, NOW)
    await preferences.set_reminders(OTHER_GUILD, BOB, True, NOW)
    assert await reviews.reminders_on(GUILD, [SAM, ADA, BOB]) == {SAM}
