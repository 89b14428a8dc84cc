"""The peer-review exchange as members and moderators use it, through the local Discord emulator."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from db.schema.reviews import review_submissions
from discord_emulator import Channel, CommandUnavailable, Member, PostedMessage
from tests.e2e.conftest import StudyGroup, eventually, refused, study_group

pytestmark = pytest.mark.e2e


async def reviews_channel(group: StudyGroup) -> Channel:
    channel = group.guild.add_text_channel("reviews")
    await group.mia.slash("settings channel", purpose="reviews", channel=channel)
    return channel


async def submit(member: Member, link: str | None = None, **options: str) -> str:
    reply = await member.slash(
        "review submit", link=link or f"https://github.com/{member.id}/app", **options
    )
    assert reply.ephemeral, reply.content
    return reply.content or ""


async def pair(group: StudyGroup, who: Member | None = None) -> str:
    result = await (who or group.mia).slash("review pair")
    followup = await result.wait_for_followup()
    return followup.content


def allowed_users(message: PostedMessage) -> set[int]:
    mentions = message.allowed_mentions or {}
    assert not mentions.get("parse"), mentions  # nothing parsed wholesale (@everyone, roles)
    return {int(u) for u in mentions.get("users") or ()}


async def test_submit_pair_status_and_done(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    bob = group.guild.add_member("Bob")
    for member in (group.ada, bob):
        await member.slash("me reminders", enabled=True)
    for member in (group.sam, group.ada, bob):
        assert "Submitted for the week of 16 Nov" in await submit(
            member, title=f"{member.name}'s API"
        )

    summary = await pair(group)
    assert "Paired 3 submissions" in summary and "Posted in" in summary
    (post,) = group.posts(reviews)
    everyone = {group.sam.id, group.ada.id, bob.id}
    assert post.pings.users == everyone and allowed_users(post) == everyone
    assert not post.pings.roles and not post.pings.everyone
    assert "Sam's API" in post.content and "<https://github.com/" in post.content
    # DMs only to reviewers with reminders on.
    (ada_dm,) = group.emu.messages.dms_to(group.ada)
    assert "2 new peer reviews" in ada_dm.content and "/review done" in ada_dm.content
    assert len(group.emu.messages.dms_to(bob)) == 1
    assert group.emu.messages.dms_to(group.sam) == []

    status = await group.sam.slash("review status")
    text = status.embed["description"]
    assert status.ephemeral and "Sam's API" in text
    assert f"<@{group.ada.id}>" in text and f"<@{bob.id}>" in text and "Reviews you owe" in text

    choices = await group.ada.autocomplete("review done", "submission", typed="Sam")
    assert [c.name for c in choices] == [f"Sam's API (#{choices[0].value})"]
    done = await group.ada.slash("review done", submission=choices[0].value, feedback="Clear code")
    assert done.ephemeral and "Recorded your review" in done.content
    told = await group.emu.messages.wait_for(
        lambda m: "finished reviewing" in m.content, channel=reviews
    )
    # Sam has reminders off: told in the reviews channel, pinging Sam and nobody else.
    assert told.pings.users == {group.sam.id} and allowed_users(told) == {group.sam.id}
    assert "Clear code" in told.content
    assert await group.ada.autocomplete("review done", "submission", typed="Sam") == []


async def test_submitting_again_updates_and_keeps_the_reviewers(group: StudyGroup) -> None:
    await reviews_channel(group)
    for member in (group.sam, group.ada):
        await submit(member)
    await pair(group)
    updated = await submit(group.sam, "https://github.com/sam/v2")
    assert "Updated your submission" in updated and f"<@{group.ada.id}>" in updated
    status = await group.sam.slash("review status")
    assert "https://github.com/sam/v2" in status.embed["description"]
    assert f"⏳ <@{group.ada.id}>" in status.embed["description"]


@pytest.mark.parametrize(
    "link", ["javascript:alert(document.cookie)", "ftp://example.com/a.zip", "   "]
)
async def test_a_link_that_is_not_http_is_refused(group: StudyGroup, link: str) -> None:
    reply = await group.sam.slash("review submit", link=link)
    assert refused(reply, "link")
    status = await group.sam.slash("review status")
    assert "Nothing submitted" in status.embed["description"]


async def test_empty_and_too_long_links_never_reach_the_bot(group: StudyGroup) -> None:
    for link in ("", "https://example.com/" + "a" * 500):
        with pytest.raises(CommandUnavailable):
            await group.sam.slash("review submit", link=link)


async def test_a_pool_of_one_is_told_plainly(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    await submit(group.sam)
    summary = await pair(group)
    assert "Only one submission" in summary
    (post,) = group.posts(reviews)
    assert "Only one submission" in post.content and post.pings.users == {group.sam.id}
    assert allowed_users(post) == {group.sam.id}


async def test_a_late_submission_is_assigned_and_notified_at_once(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    await group.mia.slash("settings reviewers", count=1)
    for member in (group.sam, group.ada):
        await member.slash("me reminders", enabled=True)
        await submit(member)
    await pair(group)
    dms_before = {m.id: len(group.emu.messages.dms_to(m)) for m in (group.sam, group.ada)}
    cleo = group.guild.add_member("Cleo")
    reply = await submit(cleo, title="Late but ready")
    assert "got reviewers at once" in reply
    late = await group.emu.messages.wait_for(
        lambda m: "Late but ready" in m.content, channel=reviews
    )
    (reviewer,) = late.pings.users - {cleo.id}
    assert late.pings.users == {cleo.id, reviewer} == allowed_users(late)
    reviewer_member = group.sam if reviewer == group.sam.id else group.ada
    await group.emu.wait_until(
        lambda: len(group.emu.messages.dms_to(reviewer_member)) > dms_before[reviewer],
        what="the late reviewer's DM",
    )
    assert "Late but ready" in group.emu.messages.dms_to(reviewer_member)[-1].content


async def test_a_review_not_owed_is_refused(group: StudyGroup) -> None:
    await reviews_channel(group)
    for member in (group.sam, group.ada):
        await submit(member)
    await pair(group)
    (choice,) = await group.ada.autocomplete("review done", "submission")
    bob = group.guild.add_member("Bob")
    for who, submission in ((bob, choice.value), (group.sam, choice.value), (group.ada, 999_999)):
        reply = await who.slash("review done", submission=submission)
        assert refused(reply, "no review of yours")


async def test_a_plain_member_cannot_pair(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    for member in (group.sam, group.ada):
        await submit(member)
    reply = await group.sam.slash("review pair")
    assert refused(reply, "Only moderators")
    assert group.posts(reviews) == []
    status = await group.sam.slash("review status")
    assert "when the round is paired" in status.embed["description"]


async def test_another_guild_sees_nothing(group: StudyGroup) -> None:
    await reviews_channel(group)
    for member in (group.sam, group.ada):
        await submit(member)
    await pair(group)
    (choice,) = await group.ada.autocomplete("review done", "submission")
    assert await group.zoe.autocomplete("review done", "submission") == []
    assert refused(await group.zoe.slash("review done", submission=choice.value), "no review")
    status = await group.zoe.slash("review status")
    assert (
        "Nothing submitted" in status.embed["description"]
        and "None right now" in status.embed["description"]
    )


async def test_a_paused_member_is_not_paired_until_resumed(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    bob = group.guild.add_member("Bob")
    paused = await bob.slash("review pause", weeks=2)
    assert "Paused until" in paused.content
    for member in (group.sam, group.ada, bob):
        await submit(member)
    summary = await pair(group)
    assert "Paired 3 submissions" in summary and "1 reviewer each" in summary
    (post,) = group.posts(reviews)
    bob_line = next(line for line in post.content.splitlines() if f"by <@{bob.id}>" in line)
    reviewers = [line.split("→")[1] for line in post.content.splitlines() if "→" in line]
    assert len(reviewers) == 3 and all(f"<@{bob.id}>" not in r for r in reviewers)
    assert f"<@{bob.id}>" not in bob_line.split("→")[1]  # his own work is still reviewed
    resumed = await bob.slash("review resume")
    assert "Welcome back" in resumed.content


async def test_concurrent_double_submit_leaves_one_submission(group: StudyGroup) -> None:
    replies = await asyncio.gather(
        *(group.sam.slash("review submit", link=f"https://github.com/sam/{i}") for i in range(2))
    )
    assert sorted(("Submitted" in r.content, "Updated" in r.content) for r in replies) == [
        (False, True),
        (True, False),
    ]
    async with group.bot.database.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(review_submissions))
    assert count == 1


async def test_everyone_and_unicode_in_title_and_note_never_ping(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    learners = group.guild.add_role("Learners", mentionable=True)
    await group.ada.slash("me reminders", enabled=True)
    await submit(
        group.sam,
        title=f"@everyone Ünïcode 🎉 <@&{learners.id}>",
        note=f"@here **please** <@{group.mia.id}>",
    )
    await submit(group.ada)
    await pair(group)
    (post,) = group.posts(reviews)
    assert post.pings.users == {group.sam.id, group.ada.id}
    assert not post.pings.everyone and not post.pings.roles
    assert "Ünïcode 🎉" in post.content and "@everyone" not in post.content
    (dm,) = group.emu.messages.dms_to(group.ada)
    assert "please" in dm.content and "@here" not in dm.content and not dm.pings.anyone
    for message in group.emu.messages.pinging():
        assert message.channel_id == reviews.id
        assert message.pings.users <= {group.sam.id, group.ada.id}


async def test_a_review_pairing_schedule_posts_the_assignments(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    for member in (group.sam, group.ada):
        await submit(member)
    added = await group.mia.slash(
        "schedule add", kind="review-pairing", when="fri 18:00", channel=reviews
    )
    schedule_id = int(added.content.split("**#")[1].split("**")[0])
    ran = await group.mia.slash("schedule run", schedule=schedule_id)
    assert "Posted" in (await ran.wait_for_followup()).content
    assignments, card = group.posts(reviews)
    assert assignments.pings.users == {group.sam.id, group.ada.id} == allowed_users(assignments)
    assert "Paired 2 submissions" in card.embeds[0]["description"]
    assert f"<#{reviews.id}>" in card.embeds[0]["description"] and not card.pings.anyone


async def test_nudges_list_reviews_owed_and_the_summary_counts_reviews_done(
    group: StudyGroup,
) -> None:
    await reviews_channel(group)
    await group.sam.slash("me reminders", enabled=True)
    for member in (group.sam, group.ada):
        await submit(member, title=f"{member.name}'s app")
    await pair(group)
    (choice,) = await group.ada.autocomplete("review done", "submission")
    await group.ada.slash("review done", submission=choice.value)

    prompt = await group.mia.slash(
        "schedule add", kind="checkin-prompt", when="thu 18:00", channel=group.general
    )
    prompt_id = int(prompt.content.split("**#")[1].split("**")[0])
    await (await group.mia.slash("schedule run", schedule=prompt_id)).wait_for_followup()
    await group.bot.services.scheduler.run_nudges()
    nudge = next(m for m in group.emu.messages.dms_to(group.sam) if "check" in m.content)
    assert "Reviews you owe" in nudge.content and "Ada's app" in nudge.content

    summary = await group.mia.slash(
        "schedule add", kind="weekly-summary", when="sun 18:00", channel=group.general
    )
    summary_id = int(summary.content.split("**#")[1].split("**")[0])
    await (await group.mia.slash("schedule run", schedule=summary_id)).wait_for_followup()
    posted = next(m for m in group.posts(group.general) if m.embeds and m.attachments)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert fields["Reviews done"] == "1"


async def test_reviews_of_a_member_who_leaves_move_to_others(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    await group.mia.slash("settings reviewers", count=1)
    bob, cleo = group.guild.add_member("Bob"), group.guild.add_member("Cleo")
    for member in (group.sam, group.ada, bob, cleo):
        await submit(member)
    await pair(group)
    bob.leave()  # GUILD_MEMBER_REMOVE reaches the bot through its Server Members intent
    moved = await group.emu.messages.wait_for(
        lambda m: "stepped back" in m.content, channel=reviews
    )
    (line,) = [line for line in moved.content.splitlines() if "→" in line]
    assert f"<@{bob.id}>" not in line and moved.pings.users == allowed_users(moved)
    assert bob.id not in moved.pings.users
    status = await group.bot.services.reviews.status(group.guild.id, bob.id)
    assert status.owed == ()


async def test_a_member_who_leaves_before_pairing_is_left_out_of_it(group: StudyGroup) -> None:
    reviews = await reviews_channel(group)
    bob = group.guild.add_member("Bob")
    for member in (group.sam, group.ada, bob):
        await submit(member)
    bob.leave()  # the lifecycle cog hears it; the review departure hook runs after it

    async def departed() -> bool:
        status = await group.bot.services.reviews.status(group.guild.id, bob.id)
        return status.pause is not None

    await eventually(departed, "the review side of the departure")
    # Bob's submission is still reviewed, but he reviews nobody's.
    assert "Only 2 members can review" in await pair(group)
    assert len(group.posts(reviews)) == 1
    service = group.bot.services.reviews
    assert (await service.status(group.guild.id, bob.id)).owed == ()
    for member in (group.sam, group.ada):
        status = await service.status(group.guild.id, member.id)
        assert status.reviews and bob.id not in {r.reviewer_id for r in status.reviews}


# Monday 16 November 2026 is the first day of a study week (the default week start).
WEEK_OF_16_NOV = [datetime(2026, 11, 16 + day, 12, tzinfo=UTC) for day in range(7)]


@pytest.mark.parametrize("now", WEEK_OF_16_NOV, ids=lambda d: d.strftime("%a"))
async def test_pair_by_hand_pairs_this_weeks_submissions_on_every_weekday(
    tmp_path: Path, now: datetime
) -> None:
    async with study_group(tmp_path, FrozenClock(now)) as group:
        reviews = await reviews_channel(group)
        for member in (group.sam, group.ada):
            await submit(member)
        summary = await pair(group)
        assert "Paired 2 submissions for the week of 16 Nov" in summary, summary
        (post,) = group.posts(reviews)
        assert post.pings.users == {group.sam.id, group.ada.id}
        status = await group.sam.slash("review status")
        assert f"<@{group.ada.id}>" in status.embed["description"]


@pytest.mark.parametrize("now", WEEK_OF_16_NOV, ids=lambda d: d.strftime("%a"))
async def test_pair_by_hand_also_pairs_last_weeks_round_if_it_never_was(
    tmp_path: Path, now: datetime
) -> None:
    clock = FrozenClock(now - timedelta(days=7))
    async with study_group(tmp_path, clock) as group:
        reviews = await reviews_channel(group)
        for member in (group.sam, group.ada):
            await submit(member)  # the week of 9 Nov, never paired
        clock.set(now)
        bob, cleo = group.guild.add_member("Bob"), group.guild.add_member("Cleo")
        for member in (bob, cleo):
            await submit(member)  # the week of 16 Nov
        summary = await pair(group)
        assert "Paired 2 submissions for the week of 9 Nov" in summary, summary
        assert "Paired 2 submissions for the week of 16 Nov" in summary, summary
        pinged = set().union(*(p.pings.users for p in group.posts(reviews)))
        assert pinged == {group.sam.id, group.ada.id, bob.id, cleo.id}
        # Again: nothing is waiting any more, and it says so.
        again = await pair(group)
        assert "nothing new to pair" in again and "Paired" not in again


async def test_a_pairing_of_more_than_100_members_posted_as_an_embed_is_accepted(
    group: StudyGroup,
) -> None:
    # No reviews or announcements channel: the schedule's own post (an embed) lists them.
    service = group.bot.services.reviews
    for i in range(120):
        await service.submit(group.guild.id, 10**18 + i, f"https://example.com/{i}")
    added = await group.mia.slash(
        "schedule add", kind="review-pairing", when="fri 18:00", channel=group.general
    )
    schedule_id = int(added.content.split("**#")[1].split("**")[0])
    ran = await group.mia.slash("schedule run", schedule=schedule_id)
    assert "Posted" in (await ran.wait_for_followup()).content
    (card,) = group.posts(group.general)
    text = card.embeds[0]["description"]
    assert "Paired 120 submissions" in text and re.search(r"… and \d+ more", text)
    assert not card.pings.anyone and allowed_users(card) == set()
