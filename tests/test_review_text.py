"""What peer review says (cogs/_review_text.py, cogs/_review_notices.py): the posts and DMs
worded from the service's notices, the pairing summaries, the nudge lines and the replies to
/review, from given results."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.weeks import StudyWeek
from bot.formatting import inert
from bot.services.reviews import (
    Completed,
    Delivered,
    LateReviewers,
    MovedReviews,
    NewReviews,
    PairOutcome,
    Paused,
    ReviewFinished,
    RoundPaired,
    ScheduledRound,
    Status,
    SteppedBack,
    Submitted,
)
from cogs._review_notices import (
    MENTIONS_PER_MESSAGE,
    channel_posts,
    direct_text,
    pack,
    pending_lines,
    scheduled_pairing_post,
)
from cogs._review_text import (
    MESSAGE_LIMIT,
    NO_CHANNEL,
    choice_name,
    completed_text,
    pair_text,
    pairing_summary,
    paused_text,
    resumed_text,
    status_card,
    submitted_text,
)
from db.repositories.reviews import Pause, Review, Submission

GUILD = 1_100_000_000_000_000_001
REVIEWS = 1_300_000_000_000_000_005
SAM, ADA, BOB = (1_200_000_000_000_000_000 + i for i in (1, 2, 3))
NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)
DUE = NOW + timedelta(days=7)
WEEK = StudyWeek(date(2026, 11, 16), ZoneInfo("UTC"))
MENTION = re.compile(r"<@(\d+)>")
# Discord timestamps as the texts carry them.
DUE_R = "<t:1795608000:R>"
NOW_R = "<t:1795003200:R>"


def submission(i: int, user: int, title: str | None = None, note: str | None = None) -> Submission:
    url = f"https://github.com/{i}/app"
    return Submission(i, GUILD, user, WEEK.key, url, title, note, NOW, NOW)


def review(
    i: int, reviewer: int, sub: Submission, *, done_at: datetime | None = None, feedback: str = ""
) -> Review:
    return Review(i, reviewer, NOW, DUE, done_at, feedback or None, sub)


def outcome(**changes: Any) -> PairOutcome:
    """A round of WEEK paired with nothing in it, but for `changes`."""
    nothing = PairOutcome(WEEK, True, 0, 0, 2, 0, (), (), True, None, REVIEWS)
    return replace(nothing, **changes)


def paired_three() -> PairOutcome:
    """Sam, Ada and Bob each review the two others."""
    subs = [submission(1, SAM, "Sam's API"), submission(2, ADA), submission(3, BOB, "Bob's app")]
    members = [SAM, ADA, BOB]
    assigned = tuple(
        review(10 * sub.id + j, reviewer, sub)
        for sub in subs
        for j, reviewer in enumerate(m for m in members if m != sub.user_id)
    )
    return outcome(submissions=3, pool=3, reviewers_each=2, assigned=assigned, due_at=DUE)


SAM_LINE = f"• **Sam's API** by <@{SAM}> <https://github.com/1/app> → <@{ADA}>, <@{BOB}>"
ADA_LINE = f"• submission #2 by <@{ADA}> <https://github.com/2/app> → <@{SAM}>, <@{BOB}>"
BOB_LINE = f"• **Bob's app** by <@{BOB}> <https://github.com/3/app> → <@{SAM}>, <@{ADA}>"
PAIRED_THREE = (
    f"Paired 3 submissions for the week of 16 Nov: 2 reviewers each. Reviews are due {DUE_R}."
)
ALONE = (
    "a review exchange needs at least two members who submitted and are not paused. "
    "They get reviewers as soon as someone else submits this week."
)


# ---------------------------------------------------------------------------- pairing summary


def test_a_pairing_says_how_many_were_paired_and_when_reviews_are_due() -> None:
    assert pairing_summary(paired_three()) == PAIRED_THREE


def test_a_pool_smaller_than_the_setting_is_explained() -> None:
    sub = submission(1, SAM)
    small = outcome(
        submissions=2,
        pool=2,
        reviewers_each=1,
        assigned=(review(1, ADA, sub), review(2, SAM, submission(2, ADA))),
        due_at=DUE,
    )
    assert pairing_summary(small) == (
        f"Paired 2 submissions for the week of 16 Nov: 1 reviewer each. Reviews are due {DUE_R}. "
        "(Only 2 members can review this round, so each submission gets 1 instead of 2.)"
    )


def test_nothing_to_pair_and_nothing_new_are_said_plainly() -> None:
    assert pairing_summary(outcome()) == (
        "No peer-review submissions for the week of 16 Nov — nothing to pair."
    )
    assert pairing_summary(outcome(first=False, submissions=3, pool=3)) == (
        "The week of 16 Nov was paired already and there was nothing new to pair. "
        "Later submissions get reviewers as they arrive."
    )


def test_a_pool_of_one_is_told_who_waits() -> None:
    alone = outcome(submissions=1, pool=1, unpaired=(submission(1, SAM),))
    only = f"Only one submission for the week of 16 Nov (<@{SAM}>)"
    assert pairing_summary(alone) == f"{only}: {ALONE}"
    two = outcome(submissions=2, pool=1, unpaired=(submission(1, SAM), submission(2, ADA)))
    assert pairing_summary(two) == (
        f"2 submissions for the week of 16 Nov (<@{SAM}>, <@{ADA}>) but only 1 member free to "
        f"review: {ALONE}"
    )


def test_submissions_left_waiting_are_named_ten_at_most() -> None:
    users = [SAM + 100 + i for i in range(12)]
    waiting = tuple(submission(i, user) for i, user in enumerate(users))
    last_week = outcome(submissions=20, pool=8, unpaired=waiting, current_week=False)
    named = ", ".join(f"<@{user}>" for user in users[:10])
    assert pairing_summary(last_week) == (
        f"Not paired yet: {named} and 2 more: there aren't enough other reviewers for them. "
        "Submit again this week to join this week's round."
    )


# ---------------------------------------------------------------------------- channel posts


def test_a_pairing_post_names_and_pings_everyone_paired() -> None:
    paired = paired_three()
    (post,) = channel_posts(RoundPaired(paired))
    assert post.content == (
        f"**Peer review.** {PAIRED_THREE} Mark each review with `/review done`.\n"
        f"{SAM_LINE}\n{ADA_LINE}\n{BOB_LINE}"
    )
    assert post.user_ids == tuple(sorted((SAM, ADA, BOB)))
    assert {int(m) for m in MENTION.findall(post.content)} == {SAM, ADA, BOB}


def test_a_pairing_post_about_a_waiting_submission_pings_its_author() -> None:
    alone = outcome(submissions=1, pool=1, unpaired=(submission(1, SAM),))
    (post,) = channel_posts(RoundPaired(alone))
    assert post.content == (
        f"**Peer review.** Only one submission for the week of 16 Nov (<@{SAM}>): {ALONE}"
    )
    assert post.user_ids == (SAM,)


def test_member_text_in_a_post_never_pings_or_formats() -> None:
    hostile = submission(1, SAM, "@everyone **bold** <@123456789012345678> [x](https://evil)")
    (post,) = channel_posts(MovedReviews((review(1, ADA, hostile),)))
    content = post.content or ""
    assert "@everyone" not in content and MENTION.findall(content) == [str(SAM), str(ADA)]
    assert post.user_ids == tuple(sorted((SAM, ADA)))


def test_late_and_moved_reviewers_are_posted_per_submission() -> None:
    sam = submission(1, SAM, "Sam's API")
    (late,) = channel_posts(LateReviewers(WEEK, (review(1, ADA, sam), review(2, BOB, sam))))
    assert late.content == (
        f"**Peer review — week of 16 Nov:** new reviewers for a late submission.\n{SAM_LINE}"
    )
    (moved,) = channel_posts(MovedReviews((review(3, BOB, submission(2, ADA)),)))
    assert moved.content == (
        "**Peer review:** a reviewer stepped back, so these reviews have new reviewers.\n"
        f"• submission #2 by <@{ADA}> <https://github.com/2/app> → <@{BOB}>"
    )
    assert moved.user_ids == tuple(sorted((ADA, BOB)))


def test_a_finished_review_is_told_to_its_author_only() -> None:
    done = review(1, ADA, submission(1, SAM), done_at=NOW, feedback="Great README @everyone")
    (post,) = channel_posts(ReviewFinished(done))
    assert post.content == (
        f"<@{SAM}>: <@{ADA}> finished reviewing submission #1 <https://github.com/1/app>.\n"
        "> Great README @\u200beveryone"
    )
    assert post.user_ids == (SAM,)


def test_pack_keeps_posts_within_discords_limits() -> None:
    users = [1_300_000_000_000_000_000 + i for i in range(400)]
    lines = [
        (
            f"• line {i} <@{users[i]}> <@{users[i + 200]}> " + "x" * 60,
            frozenset({users[i], users[i + 200]}),
        )
        for i in range(200)
    ]
    posts = pack("Header", lines)
    assert len(posts) >= 2
    for post in posts:
        content = post.content or ""
        assert len(content) <= MESSAGE_LIMIT
        assert len(post.user_ids) <= MENTIONS_PER_MESSAGE
        assert set(post.user_ids) == {int(m) for m in MENTION.findall(content)}
    assert sum((p.content or "").count("• line") for p in posts) == 200


def test_member_text_is_made_inert() -> None:
    text = inert("@everyone **bold** <@123456789012345678> [x](https://evil) @here")
    assert "@everyone" not in text and "@here" not in text
    assert not re.search(r"(?<!\\)<@", text) and "\\<@" in text
    assert "\\*\\*bold\\*\\*" in text and "\\[x\\]" in text


# ---------------------------------------------------------------------------- DMs


def test_a_reviewer_is_told_their_new_reviews_by_dm() -> None:
    mine = (
        review(1, ADA, submission(1, SAM, "Sam's API", "check `auth`")),
        review(2, ADA, submission(3, BOB)),
    )
    assert direct_text(NewReviews(mine, NOW), "Backend Study Group") == (
        "You have 2 new peer reviews in **Backend Study Group**:\n"
        f"• **Sam's API** by <@{SAM}> — <https://github.com/1/app> · due {DUE_R}\n"
        "  Note: check \\`auth\\`\n"
        f"• submission #3 by <@{BOB}> — <https://github.com/3/app> · due {DUE_R}\n"
        "When you're done, use `/review done` in the server.\n"
        "-# You get these because you turned on `/me reminders`."
    )


def test_a_long_dm_lists_ten_reviews_and_counts_the_rest() -> None:
    mine = tuple(review(i, ADA, submission(i, SAM + 100 + i)) for i in range(12))
    text = direct_text(NewReviews(mine, DUE), None)
    assert text.startswith("You have 12 new peer reviews in **your study group**:\n")
    assert text.count("overdue since") == 10
    assert "• … and 2 more: see `/review status`." in text


def test_an_author_is_told_of_a_finished_review_by_dm() -> None:
    done = review(1, ADA, submission(1, SAM, "Sam's API"), done_at=NOW, feedback="**Nice**")
    assert direct_text(ReviewFinished(done), "Study *Group*") == (
        f"<@{ADA}> finished reviewing your submission **Sam's API** in **Study \\*Group\\***: "
        "<https://github.com/1/app>\n> \\*\\*Nice\\*\\*"
    )


def test_a_nudge_lists_reviews_owed_due_or_overdue() -> None:
    owed = [review(1, ADA, submission(1, SAM)), review(2, ADA, submission(3, BOB, "Bob's app"))]
    item = f"submission #1 by <@{SAM}> — <https://github.com/1/app>"
    assert pending_lines({ADA: owed[:1]}, NOW) == {ADA: [f"{item} · due {DUE_R}"]}
    assert pending_lines({ADA: owed}, DUE) == {
        ADA: [
            f"{item} · overdue since {DUE_R}",
            f"**Bob's app** by <@{BOB}> — <https://github.com/3/app> · overdue since {DUE_R}",
        ]
    }


# ---------------------------------------------------------------------------- the schedule's post


def test_the_schedule_post_says_where_the_assignments_are() -> None:
    pairing = scheduled_pairing_post([ScheduledRound(paired_three(), posted=True)])
    assert pairing.text == f"{PAIRED_THREE} The assignments are in <#{REVIEWS}>."
    assert pairing.user_ids == ()


def test_without_a_post_in_a_channel_the_schedule_post_carries_the_list() -> None:
    unposted = replace(paired_three(), channel_id=None)
    pairing = scheduled_pairing_post([ScheduledRound(unposted, posted=False)])
    # The list is in an embed, which never pings: no allowed mentions to pass.
    assert pairing.text == f"{PAIRED_THREE}\n\n{SAM_LINE}\n{ADA_LINE}\n{BOB_LINE}"
    assert pairing.user_ids == ()


def test_a_listing_too_long_for_the_schedule_post_says_how_many_more() -> None:
    subs = [submission(i, SAM + 100 + i) for i in range(150)]
    assigned = tuple(review(i, subs[(i + 1) % 150].user_id, sub) for i, sub in enumerate(subs))
    big = outcome(submissions=150, pool=150, reviewers_each=1, assigned=assigned, due_at=DUE)
    pairing = scheduled_pairing_post([ScheduledRound(big, posted=False)])
    assert len(pairing.text) <= 4000 and pairing.user_ids == ()
    listed = [line for line in pairing.text.splitlines() if line.startswith("•")]
    (more,) = re.findall(r"… and (\d+) more", pairing.text)
    assert len(listed) + int(more) == 150


def test_a_schedule_post_reports_each_round_on_its_line() -> None:
    earlier = replace(paired_three(), week=WEEK.previous(), current_week=False)
    pairing = scheduled_pairing_post(
        [ScheduledRound(earlier, posted=True), ScheduledRound(paired_three(), posted=True)]
    )
    first, second = pairing.text.split("\n")
    assert first.startswith("Paired 3 submissions for the week of 9 Nov")
    assert second.startswith("Paired 3 submissions for the week of 16 Nov")


# ---------------------------------------------------------------------------- replies


def test_submitting_says_what_happens_next() -> None:
    sam = submission(1, SAM, "Sam's API")
    first = Submitted(submission=sam, created=True, week=WEEK, reviews=())
    header = "📝 Submitted for the week of 16 Nov: **Sam's API** <https://github.com/1/app>\n"
    assert submitted_text(first) == (
        f"{header}You'll get reviewers when the round is paired; `/review status` shows them."
    )
    reviewers = (review(1, ADA, sam), review(2, BOB, sam))
    late = replace(first, reviews=reviewers, assigned=reviewers)
    assert submitted_text(late) == (
        f"{header}The round was paired already, so you got reviewers at once: <@{ADA}>, <@{BOB}>."
    )
    waiting = replace(first, waiting=True, paused_until=DUE)
    assert submitted_text(waiting) == (
        f"{header}The round was paired already and nobody else can review yet: you'll get "
        "reviewers as soon as someone else submits this week.\n"
        "-# You're paused until <t:1795608000:D>, so you won't be asked to review."
    )
    again = replace(first, created=False, reviews=reviewers)
    assert submitted_text(again) == (
        "📝 Updated your submission for the week of 16 Nov: **Sam's API** "
        f"<https://github.com/1/app>\nYour reviewers stay: <@{ADA}>, <@{BOB}>."
    )


def test_status_shows_reviewers_and_reviews_owed() -> None:
    sam = submission(1, SAM, "Sam's API")
    mine = (
        review(1, ADA, sam, done_at=NOW),
        review(2, BOB, sam),
        review(3, 7, sam),
    )
    owed = (review(4, SAM, submission(2, ADA)),)
    pause = Pause(SAM, DUE, "paused")
    card = status_card(Status(WEEK, sam, mine, owed, pause, True, DUE))
    assert card.title == "Peer review — week of 16 Nov"
    assert card.description == (
        "**Your submission** · week of 16 Nov\n"
        "**Sam's API** <https://github.com/1/app>\n"
        f"✅ <@{ADA}> · done {NOW_R}\n"
        f"⚠️ <@{BOB}> · overdue since {DUE_R}\n"
        f"⚠️ <@7> · overdue since {DUE_R}\n"
        "\n"
        "**Reviews you owe**\n"
        f"• submission #2 by <@{ADA}> — <https://github.com/2/app> · overdue since {DUE_R}\n"
        "Mark each with `/review done` when you've given your feedback."
    )
    assert [(f.name, f.value) for f in card.fields] == [("Paused until", "<t:1795608000:D>")]
    assert card.footer == "You're paused: no new reviews until the date above."


def test_status_without_reviewers_says_why() -> None:
    nothing = status_card(Status(WEEK, None, (), (), None, False, NOW))
    assert nothing.description == (
        "**Your submission**\nNothing submitted this week or last. Share your work with "
        "`/review submit`.\n\n**Reviews you owe**\nNone right now — thank you!"
    )
    assert nothing.fields == () and nothing.footer is None
    sam = submission(1, SAM)
    waiting = status_card(Status(WEEK, sam, (), (), None, True, NOW)).description
    assert "\nWaiting for reviewers: nobody else can review yet this round.\n" in waiting
    unpaired = status_card(Status(WEEK, sam, (), (), None, False, NOW)).description
    assert "\nReviewers are assigned when the round is paired.\n" in unpaired


def test_a_long_status_is_cut_with_a_count() -> None:
    owed = tuple(review(i, SAM, submission(i, ADA, "t" * 90)) for i in range(60))
    description = status_card(Status(WEEK, None, (), owed, None, False, NOW)).description
    assert len(description) <= 4000
    (more,) = re.findall(r"… and (\d+) more lines", description)
    assert description.count("\n• ") + int(more) == 61  # the last line is the hint


def test_done_says_how_the_author_hears_of_it() -> None:
    done = review(1, ADA, submission(1, SAM, "Sam's API"), done_at=NOW)
    what = f"**Sam's API** by <@{SAM}>"
    assert completed_text(Completed(done, True, "dm")) == (
        f"✅ Recorded your review of {what}. I sent them a DM."
    )
    assert completed_text(Completed(done, True, "channel", REVIEWS)) == (
        f"✅ Recorded your review of {what}. I told them in <#{REVIEWS}>."
    )
    assert completed_text(Completed(done, True)) == (
        f"✅ Recorded your review of {what}. No reviews channel is set, so I couldn't tell "
        "them — let them know yourself."
    )
    assert completed_text(Completed(done, False)) == (
        f"You had already marked your review of {what} done ({NOW_R})."
    )


def test_pausing_and_resuming_say_what_happens_to_reviews() -> None:
    moved = (review(1, BOB, submission(1, SAM)), review(2, BOB, submission(2, ADA)))
    kept = (review(3, SAM, submission(3, BOB, "Bob's app")),)
    paused = paused_text(Paused(DUE, SteppedBack(moved=moved, kept=kept)))
    assert paused == (
        "⏸️ Paused until <t:1795608000:D>: you won't be asked to review until then (your own "
        "submissions still get reviewed). `/review resume` ends it early.\n"
        "2 open reviews moved to other reviewers.\n"
        "Nobody else could take 1 review (**Bob's app**), so it stays yours."
    )
    two_kept = paused_text(Paused(DUE, SteppedBack(kept=moved)))
    assert two_kept.endswith("(submission #1, submission #2), so they stay yours.")
    assert resumed_text(True) == "▶️ Welcome back: you'll be in the next pairing."
    assert resumed_text(False) == "You weren't paused: you're in the next pairing already."


def test_a_pairing_by_hand_says_where_the_assignments_went() -> None:
    paired = paired_three()
    posted = pair_text([paired], Delivered((42,), dms=2), GUILD)
    assert posted == (
        f"{PAIRED_THREE}\nPosted in <#{REVIEWS}>: "
        f"https://discord.com/channels/{GUILD}/{REVIEWS}/42\n"
        "Sent 2 DMs to reviewers with reminders on."
    )
    refused = pair_text([paired], Delivered(failed=1), GUILD)
    assert refused == (
        f"{PAIRED_THREE}\nI couldn't post in <#{REVIEWS}>: check my permissions there."
    )
    nowhere = pair_text([replace(paired, channel_id=None)], Delivered(), GUILD)
    assert nowhere == f"{PAIRED_THREE}\n{NO_CHANNEL}"
    nothing = outcome(first=False, submissions=3, pool=3)
    assert pair_text([nothing], Delivered(), GUILD) == pairing_summary(nothing)


def test_autocomplete_names_a_review_by_title_or_link_within_100_characters() -> None:
    assert choice_name(review(1, ADA, submission(7, SAM, "Sam's API"))) == "Sam's API (#7)"
    assert choice_name(review(1, ADA, submission(7, SAM))) == "https://github.com/7/app (#7)"
    long = choice_name(review(1, ADA, submission(7, SAM, "t" * 120)))
    assert len(long) == 100 and long.endswith("t…")
