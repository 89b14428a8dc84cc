"""The peer-review exchange through its service: rounds, pairing, late submissions,
follow-through and reviewers stepping back (real database, fake Discord). What the notices
and results say in words is tested in tests/test_review_text.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FrozenClock
from bot.errors import InvalidInput, NotFound
from bot.services.reviews import (
    ChannelNotice,
    DirectNotice,
    LateReviewers,
    MovedReviews,
    NewReviews,
    ReviewFinished,
    ReviewService,
    RoundPaired,
)
from db.engine import Database
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.member_preferences import MemberPreferencesRepository
from db.repositories.reviews import ReviewsRepository
from tests.scheduling import GUILD, OTHER_GUILD, REVIEWS, FakeDiscord

SAM, ADA, BOB, CLEO, DEV = (1_200_000_000_000_000_000 + i for i in (1, 2, 3, 4, 5))


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Use-cases on SQLite only: the repository tests cover both backends."""
    return sqlite_url


@pytest.fixture
def discord() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
def service(database: Database, clock: FrozenClock, discord: FakeDiscord) -> ReviewService:
    reviews = ReviewService(
        ReviewsRepository(database.engine), GuildSettingsRepository(database.engine), clock
    )
    reviews.attach_publisher(discord)
    return reviews


@pytest.fixture
async def settings(database: Database, clock: FrozenClock) -> GuildSettingsRepository:
    repository = GuildSettingsRepository(database.engine)
    await repository.update(GUILD, clock.now(), reviews_channel_id=REVIEWS)
    return repository


async def reminders(database: Database, *users: int) -> None:
    preferences = MemberPreferencesRepository(database.engine)
    for user in users:
        await preferences.set_reminders(GUILD, user, True, datetime.now(UTC))


async def submit_all(service: ReviewService, *users: int) -> dict[int, int]:
    """Each member submits; returns member → submission id."""
    out = {}
    for user in users:
        result = await service.submit(GUILD, user, f"https://github.com/{user}/app", f"App {user}")
        out[user] = result.submission.id
    return out


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://files.example.com/work.zip",
        "",
        "   ",
        "https://",
        "example.com/no-scheme",
        "https://user:secret@example.com/x",
        "https://exa mple.com/",
        "https://example.com/\u202egnp.exe",
        "https://example.com/<script>",
        "https://example.com/" + "a" * 500,
        "https://example.com:99999/",
    ],
)
async def test_bad_links_are_refused(service: ReviewService, link: str) -> None:
    with pytest.raises(InvalidInput):
        await service.submit(GUILD, SAM, link)
    assert (await service.status(GUILD, SAM)).submission is None


async def test_good_links_title_and_note_are_cleaned(service: ReviewService) -> None:
    result = await service.submit(
        GUILD, SAM, "  HTTPS://Example.com/Ünïcode?q=1#frag ", "  My   café\tAPI ", " check  auth "
    )
    sub = result.submission
    assert sub.url == "HTTPS://Example.com/Ünïcode?q=1#frag"
    assert (sub.title, sub.note) == ("My café API", "check auth")


async def test_long_title_and_note_are_refused(service: ReviewService) -> None:
    with pytest.raises(InvalidInput, match="100"):
        await service.submit(GUILD, SAM, "https://a.example", "t" * 101)
    with pytest.raises(InvalidInput, match="500"):
        await service.submit(GUILD, SAM, "https://a.example", None, "n" * 501)


# ---------------------------------------------------------------------------- pairing


async def test_pairing_gives_each_submission_distinct_reviewers_evenly(
    service: ReviewService, settings: GuildSettingsRepository, discord: FakeDiscord
) -> None:
    members = (SAM, ADA, BOB, CLEO, DEV)
    ids = await submit_all(service, *members)
    outcome = await service.pair(GUILD, by=SAM)
    assert outcome.first and outcome.reviewers_each == 2 and outcome.unpaired == ()
    by_sub: dict[int, list[int]] = {}
    for review in outcome.assigned:
        by_sub.setdefault(review.submission.id, []).append(review.reviewer_id)
        assert review.reviewer_id != review.author_id
    assert sorted(by_sub) == sorted(ids.values())
    assert all(len(set(r)) == 2 for r in by_sub.values())
    assert set(Counter(r.reviewer_id for r in outcome.assigned).values()) == {2}

    (notice,) = outcome.notices  # nobody has reminders on: no DMs
    assert isinstance(notice, ChannelNotice) and notice.channel_id == REVIEWS
    assert notice.news == RoundPaired(replace(outcome, notices=()))
    delivered = await service.deliver(outcome.notices)
    (post,) = discord.in_channel(REVIEWS)
    assert delivered.message_ids == (post.message_id,) and post.nonce == notice.nonce(0)
    assert set(post.post.user_ids) == set(members)


async def test_pairing_again_pairs_only_new_submissions(
    service: ReviewService, settings: GuildSettingsRepository
) -> None:
    await submit_all(service, SAM, ADA, BOB)
    first = await service.pair(GUILD)
    again = await service.pair(GUILD)
    assert len(first.assigned) == 6
    assert not again.first and again.assigned == () and again.notices == ()
    assert again.unpaired == () and again.submissions == 3


async def test_a_pool_of_one_is_told_and_paired_when_a_second_submits(
    service: ReviewService, settings: GuildSettingsRepository, discord: FakeDiscord
) -> None:
    (sam_sub,) = (await submit_all(service, SAM)).values()
    outcome = await service.pair(GUILD)
    assert outcome.assigned == () and [s.id for s in outcome.unpaired] == [sam_sub]
    assert (outcome.submissions, outcome.pool, outcome.current_week) == (1, 1, True)
    await service.deliver(outcome.notices)
    (told,) = discord.in_channel(REVIEWS)
    assert told.post.user_ids == (SAM,)

    late = await service.submit(GUILD, ADA, "https://github.com/ada/app")
    # Ada gets Sam, and Sam's waiting submission gets Ada.
    assert [r.reviewer_id for r in late.reviews] == [SAM]
    assert {(r.submission.id, r.reviewer_id) for r in late.assigned} == {
        (late.submission.id, SAM),
        (sam_sub, ADA),
    }


async def test_a_late_submission_goes_to_the_least_loaded_at_once(
    service: ReviewService,
    settings: GuildSettingsRepository,
    discord: FakeDiscord,
    database: Database,
    clock: FrozenClock,
) -> None:
    await reminders(database, SAM, ADA, BOB, CLEO)
    await submit_all(service, SAM, ADA, BOB, CLEO)
    await settings.update(GUILD, datetime.now(UTC), reviewers_per_submission=1)
    await service.pair(GUILD)
    late = await service.submit(GUILD, DEV, "https://github.com/dev/app", "Late work")
    assert late.created and len(late.assigned) == 1 and late.assigned == late.reviews
    (review,) = late.assigned
    assert review.reviewer_id in {SAM, ADA, BOB, CLEO}
    channel, dm = late.notices
    assert isinstance(channel, ChannelNotice)
    assert channel.news == LateReviewers(late.week, (review,))
    assert isinstance(dm, DirectNotice) and dm.user_id == review.reviewer_id
    assert dm.news == NewReviews((review,), clock.now())
    await service.deliver(late.notices)
    (post,) = discord.in_channel(REVIEWS)
    assert set(post.post.user_ids) == {DEV, review.reviewer_id}
    assert [user for user, _ in discord.dms] == [review.reviewer_id]


async def test_resubmitting_updates_the_link_and_keeps_the_reviewers(
    service: ReviewService, settings: GuildSettingsRepository
) -> None:
    ids = await submit_all(service, SAM, ADA, BOB)
    await service.pair(GUILD)
    before = (await service.status(GUILD, SAM)).reviews
    again = await service.submit(GUILD, SAM, "https://github.com/sam/v2")
    assert not again.created and again.submission.id == ids[SAM]
    assert again.submission.url == "https://github.com/sam/v2" and again.assigned == ()
    assert [r.reviewer_id for r in again.reviews] == [r.reviewer_id for r in before]


async def test_reviewers_are_told_by_dm_only_with_reminders_on(
    service: ReviewService,
    settings: GuildSettingsRepository,
    discord: FakeDiscord,
    database: Database,
    clock: FrozenClock,
) -> None:
    await reminders(database, ADA)
    await submit_all(service, SAM, ADA, BOB)
    outcome = await service.pair(GUILD)
    dms = [n for n in outcome.notices if isinstance(n, DirectNotice)]
    assert [n.user_id for n in dms] == [ADA]
    assert dms[0].news == NewReviews(
        tuple(r for r in outcome.assigned if r.reviewer_id == ADA), clock.now()
    )
    await service.deliver(outcome.notices)
    assert [user for user, _ in discord.dms] == [ADA]


async def test_earlier_rounds_are_not_repeated(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    members = (SAM, ADA, BOB, CLEO)
    await settings.update(GUILD, clock.now(), reviewers_per_submission=1)
    seen: set[tuple[int, int]] = set()
    for _ in range(len(members) - 1):
        await submit_all(service, *members)
        outcome = await service.pair(GUILD)
        pairs = {(r.reviewer_id, r.author_id) for r in outcome.assigned}
        assert len(pairs) == len(members) and not pairs & seen
        seen |= pairs
        clock.advance(timedelta(days=7))


async def test_early_in_a_week_pairing_takes_the_week_that_ended(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    await submit_all(service, SAM, ADA)  # Wednesday 18 Nov
    clock.set(datetime(2026, 11, 23, 10, tzinfo=UTC))  # Monday 10:00, the default pairing
    outcome = await service.pair(GUILD)
    assert outcome.week.key.isoformat() == "2026-11-16" and len(outcome.assigned) == 2
    assert not outcome.current_week
    clock.set(datetime(2026, 11, 25, 12, tzinfo=UTC))  # Wednesday: this week's round
    assert (await service.pair(GUILD)).week.key.isoformat() == "2026-11-23"


async def test_the_schedule_hook_posts_the_list_and_reports_the_round(
    service: ReviewService, settings: GuildSettingsRepository, discord: FakeDiscord
) -> None:
    await submit_all(service, SAM, ADA, BOB)
    (reported,) = await service.scheduled_pairing(GUILD, datetime(2026, 11, 18, 13, tzinfo=UTC))
    assert reported.posted and reported.outcome.channel_id == REVIEWS
    assert reported.outcome.submissions == 3 and len(reported.outcome.assigned) == 6
    assert len(discord.in_channel(REVIEWS)) == 1


async def test_without_any_channel_the_round_is_reported_unposted(
    service: ReviewService, discord: FakeDiscord
) -> None:
    await submit_all(service, SAM, ADA)
    (reported,) = await service.scheduled_pairing(GUILD, datetime(2026, 11, 18, 13, tzinfo=UTC))
    assert not reported.posted and reported.outcome.channel_id is None
    assert {r.author_id for r in reported.outcome.assigned} == {SAM, ADA}
    assert discord.messages == []


async def test_a_refused_post_leaves_the_round_unposted(
    service: ReviewService, settings: GuildSettingsRepository, discord: FakeDiscord
) -> None:
    discord.forbidden_channels.add(REVIEWS)
    await submit_all(service, SAM, ADA)
    (reported,) = await service.scheduled_pairing(GUILD, datetime(2026, 11, 18, 13, tzinfo=UTC))
    assert not reported.posted and reported.outcome.channel_id == REVIEWS


async def test_a_scheduled_pairing_also_pairs_last_weeks_round_if_it_never_was(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    await submit_all(service, SAM, ADA)  # Wednesday 18 Nov, never paired
    clock.set(datetime(2026, 11, 25, 18, tzinfo=UTC))  # a Wednesday pairing schedule
    await submit_all(service, BOB, CLEO)
    rounds = await service.scheduled_pairing(GUILD, clock.now())
    assert [r.outcome.week.key for r in rounds] == [date(2026, 11, 16), date(2026, 11, 23)]
    assert all(len(r.outcome.assigned) == 2 for r in rounds)
    assert (await service.status(GUILD, SAM)).reviews


async def test_a_scheduled_pairing_leaves_the_new_week_for_its_own_time(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    await submit_all(service, SAM, ADA)  # the week of 16 Nov
    clock.set(datetime(2026, 11, 23, 9, tzinfo=UTC))  # Monday morning: a new week
    await submit_all(service, BOB, CLEO)
    (reported,) = await service.scheduled_pairing(GUILD, datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert reported.outcome.week.key == date(2026, 11, 16) and not reported.outcome.current_week
    assert {r.author_id for r in reported.outcome.assigned} == {SAM, ADA}
    assert not (await service.status(GUILD, BOB)).reviews


# ---------------------------------------------------------------------------- follow-through


async def test_done_tells_the_author_in_the_channel_or_by_dm(
    service: ReviewService,
    settings: GuildSettingsRepository,
    discord: FakeDiscord,
    database: Database,
) -> None:
    ids = await submit_all(service, SAM, ADA)
    await service.pair(GUILD)
    done = await service.done(GUILD, ADA, ids[SAM], "Great README @everyone")
    assert done.newly and done.told_by == "channel" and done.channel_id == REVIEWS
    assert done.review.feedback == "Great README @everyone"
    (public,) = done.notices
    assert isinstance(public, ChannelNotice) and public.news == ReviewFinished(done.review)
    await service.deliver(done.notices)
    (post,) = discord.in_channel(REVIEWS)
    assert post.post.user_ids == (SAM,)

    await reminders(database, ADA)
    by_dm = await service.done(GUILD, SAM, ids[ADA], None)
    assert by_dm.told_by == "dm"
    (dm,) = by_dm.notices
    assert isinstance(dm, DirectNotice) and dm.news == ReviewFinished(by_dm.review)
    assert dm.user_id == ADA and dm.fallback is not None
    await service.deliver(by_dm.notices)
    assert [user for user, _ in discord.dms] == [ADA]

    again = await service.done(GUILD, SAM, ids[ADA], "more")
    assert not again.newly and again.notices == ()


async def test_closed_dms_fall_back_to_the_channel(
    service: ReviewService,
    settings: GuildSettingsRepository,
    discord: FakeDiscord,
    database: Database,
) -> None:
    ids = await submit_all(service, SAM, ADA)
    await service.pair(GUILD)
    await reminders(database, SAM)
    discord.closed_dms.add(SAM)
    done = await service.done(GUILD, ADA, ids[SAM])
    delivered = await service.deliver(done.notices)
    assert delivered.dms == 0 and len(delivered.message_ids) == 1
    assert discord.in_channel(REVIEWS)[0].post.user_ids == (SAM,)


async def test_done_refuses_reviews_not_owed(
    service: ReviewService, settings: GuildSettingsRepository
) -> None:
    ids = await submit_all(service, SAM, ADA)
    await service.pair(GUILD)
    with pytest.raises(NotFound):
        await service.done(GUILD, BOB, ids[SAM])  # not a reviewer of it
    with pytest.raises(NotFound):
        await service.done(GUILD, SAM, ids[SAM])  # one's own
    with pytest.raises(NotFound):
        await service.done(OTHER_GUILD, ADA, ids[SAM])  # another guild
    with pytest.raises(InvalidInput):
        await service.done(GUILD, ADA, ids[SAM], "f" * 1001)


async def test_status_shows_reviewers_and_reviews_owed(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    ids = await submit_all(service, SAM, ADA, BOB)
    assert not (await service.status(GUILD, SAM)).paired
    await service.pair(GUILD)
    status = await service.status(GUILD, SAM)
    assert status.submission is not None and status.submission.id == ids[SAM]
    assert sorted(r.reviewer_id for r in status.reviews) == [ADA, BOB]
    assert sorted(r.author_id for r in status.owed) == [ADA, BOB]
    assert [r.submission.id for r in await service.owed_suggestions(GUILD, SAM, "")] == sorted(
        [ids[ADA], ids[BOB]]
    )
    assert await service.owed_suggestions(GUILD, SAM, f"App {ADA}") == [
        r for r in status.owed if r.author_id == ADA
    ]
    clock.advance(timedelta(days=8))
    assert len(await service.overdue(GUILD)) == 6
    pending = await service.pending_reviews(GUILD, [SAM, DEV])
    assert list(pending) == [SAM] and sorted(r.id for r in pending[SAM]) == sorted(
        r.id for r in status.owed
    )
    assert all(r.overdue(clock.now()) for r in pending[SAM])


async def test_reviews_done_counts_the_week(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    ids = await submit_all(service, SAM, ADA)
    await service.pair(GUILD)
    await service.done(GUILD, ADA, ids[SAM])
    week = await service.current_week(GUILD)
    assert await service.reviews_done(GUILD, week.start_utc, week.end_utc) == 1
    assert await service.reviews_done(GUILD, week.end_utc, week.next().end_utc) == 0


# ---------------------------------------------------------------------------- stepping back


async def test_a_paused_member_is_left_out_and_their_reviews_move(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    await settings.update(GUILD, clock.now(), reviewers_per_submission=1)
    await submit_all(service, SAM, ADA, BOB, CLEO)
    await service.pair(GUILD)
    (owed,) = (await service.status(GUILD, BOB)).owed
    paused = await service.pause(GUILD, BOB, 2)
    assert paused.until == clock.now() + timedelta(weeks=2)
    (moved,) = paused.stepped_back.moved
    assert moved.submission.id == owed.submission.id and moved.reviewer_id not in (
        BOB,
        owed.author_id,
    )
    assert (await service.status(GUILD, BOB)).owed == ()
    (notice,) = paused.stepped_back.notices
    assert isinstance(notice, ChannelNotice) and notice.news == MovedReviews((moved,))

    clock.advance(timedelta(days=7))
    await submit_all(service, SAM, ADA, BOB, CLEO)
    outcome = await service.pair(GUILD)
    assert BOB not in {r.reviewer_id for r in outcome.assigned}
    assert len([r for r in outcome.assigned if r.author_id == BOB]) == 1  # still reviewed
    assert await service.resume(GUILD, BOB) and not await service.resume(GUILD, BOB)


async def test_pause_weeks_are_checked(service: ReviewService) -> None:
    for weeks in (0, 13):
        with pytest.raises(InvalidInput):
            await service.pause(GUILD, SAM, weeks)


async def test_a_member_who_left_hands_over_their_reviews(
    service: ReviewService, settings: GuildSettingsRepository, clock: FrozenClock
) -> None:
    await settings.update(GUILD, clock.now(), reviewers_per_submission=1)
    await submit_all(service, SAM, ADA, BOB, CLEO)
    await service.pair(GUILD)
    (owed,) = (await service.status(GUILD, BOB)).owed
    stepped = await service.member_left(GUILD, BOB)
    (moved,) = stepped.moved
    assert moved.submission.id == owed.submission.id and moved.reviewer_id != BOB
    assert (await service.status(GUILD, BOB)).owed == ()
    late = await service.submit(GUILD, DEV, "https://github.com/dev/app")
    assert [r.reviewer_id for r in late.assigned] != [BOB] and len(late.assigned) == 1


async def test_a_review_nobody_else_can_take_is_dropped_when_its_reviewer_leaves(
    service: ReviewService, settings: GuildSettingsRepository
) -> None:
    ids = await submit_all(service, SAM, ADA, BOB)
    await service.pair(GUILD)
    # Sam's submission already has Ada, and Sam can't review himself: nobody replaces Bob.
    stepped = await service.member_left(GUILD, BOB)
    assert stepped.moved == () and stepped.dropped == 2
    assert [r.reviewer_id for r in (await service.status(GUILD, SAM)).reviews] == [ADA]
    assert ids[BOB] in {r.submission.id for r in (await service.status(GUILD, SAM)).owed}
