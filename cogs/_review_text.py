"""Peer review in words: the replies to /review, what a pairing did, and the pieces the posts
and DMs are made of (cogs/_review_notices.py words those).

Discord-free: plain text, and ``Card`` data that the cog sends as an embed. Member text
(titles, notes, feedback) is made inert: it sits among mentions of others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.formatting import inert, message_link, plural, timestamp, week_text
from bot.services.announcements import Card, Field
from bot.services.reviews import (
    Completed,
    Delivered,
    PairOutcome,
    Paused,
    Status,
    Submitted,
)
from db.repositories.reviews import Review, Submission

MESSAGE_LIMIT = 2000
DESCRIPTION_BUDGET = 4000
CHOICE_NAME_LIMIT = 100
#: Members, submissions or reviews named in a line or a DM; the rest are counted.
MAX_LISTED = 10
NO_CHANNEL = (
    "No reviews channel is set (`/settings channel purpose:reviews`), so nothing was posted; "
    "members see their reviews with `/review status`."
)

# --------------------------------------------------------------------------- pieces


def mention(user_id: int) -> str:
    # Reviews by members who asked to be forgotten keep their feedback under a non-positive id.
    return f"<@{user_id}>" if user_id > 0 else "a former member"


def mentions(user_ids: Iterable[int]) -> str:
    return ", ".join(mention(u) for u in user_ids)


def submission_label(submission: Submission) -> str:
    if submission.title:
        return f"**{inert(submission.title)}**"
    return f"submission #{submission.id}"


def review_item(review: Review, now: datetime) -> str:
    """A review someone owes, in one line (for status, nudges and DMs)."""
    sub = review.submission
    when = (
        f"overdue since {timestamp(review.due_at, 'R')}"
        if review.overdue(now)
        else f"due {timestamp(review.due_at, 'R')}"
    )
    return f"{submission_label(sub)} by {mention(sub.user_id)} — <{sub.url}> · {when}"


# --------------------------------------------------------------------------- pairing


def pairing_summary(outcome: PairOutcome) -> str:
    """What a pairing did, in plain words (for the moderator and the scheduled post)."""
    week = week_text(outcome.week.key)
    n, k = outcome.submissions, outcome.reviewers_each
    if n == 0:
        return f"No peer-review submissions for the {week} — nothing to pair."
    if not outcome.assigned and not outcome.first and not outcome.unpaired:
        return (
            f"The {week} was paired already and there was nothing new to pair. "
            "Later submissions get reviewers as they arrive."
        )
    parts: list[str] = []
    if outcome.assigned:
        paired = len({r.submission.id for r in outcome.assigned})
        parts.append(
            f"Paired {plural(paired, 'submission')} for the {week}: {plural(k, 'reviewer')} each."
        )
        if outcome.due_at is not None:
            parts.append(f"Reviews are due {timestamp(outcome.due_at, 'R')}.")
        if k < outcome.per_submission:
            parts.append(
                f"(Only {plural(outcome.pool, 'member')} can review this round, so each "
                f"submission gets {k} instead of {outcome.per_submission}.)"
            )
    if outcome.unpaired:
        authors = mentions(s.user_id for s in outcome.unpaired[:MAX_LISTED])
        more = (
            f" and {len(outcome.unpaired) - MAX_LISTED} more"
            if len(outcome.unpaired) > MAX_LISTED
            else ""
        )
        if outcome.pool < 2:
            why = "a review exchange needs at least two members who submitted and are not paused"
            if n == 1:
                start = f"Only one submission for the {week} ({authors})"
            else:
                start = (
                    f"{plural(n, 'submission')} for the {week} ({authors}{more}) but only "
                    f"{plural(outcome.pool, 'member')} free to review"
                )
        else:
            why = "there aren't enough other reviewers for them"
            start = f"Not paired yet: {authors}{more}"
        then = (
            "They get reviewers as soon as someone else submits this week."
            if outcome.current_week
            else "Submit again this week to join this week's round."
        )
        parts.append(f"{start}: {why}. {then}")
    return " ".join(parts)


# --------------------------------------------------------------------------- replies


def submitted_text(result: Submitted) -> str:
    sub = result.submission
    verb = "Submitted" if result.created else "Updated your submission"
    lines = [f"📝 {verb} for the {week_text(result.week.key)}: {submission_label(sub)} <{sub.url}>"]
    if result.assigned:
        lines.append(
            "The round was paired already, so you got reviewers at once: "
            f"{mentions(r.reviewer_id for r in result.reviews)}."
        )
    elif result.waiting:
        lines.append(
            "The round was paired already and nobody else can review yet: you'll get "
            "reviewers as soon as someone else submits this week."
        )
    elif result.reviews:
        lines.append(f"Your reviewers stay: {mentions(r.reviewer_id for r in result.reviews)}.")
    else:
        lines.append("You'll get reviewers when the round is paired; `/review status` shows them.")
    if result.paused_until is not None:
        lines.append(
            f"-# You're paused until {timestamp(result.paused_until, 'D')}, so you won't be "
            "asked to review."
        )
    return "\n".join(lines)[:MESSAGE_LIMIT]


def _reviewer_line(review: Review, status: Status) -> str:
    if review.done_at is not None:
        return f"✅ {mention(review.reviewer_id)} · done {timestamp(review.done_at, 'R')}"
    if review.overdue(status.now):
        return f"⚠️ {mention(review.reviewer_id)} · overdue since {timestamp(review.due_at, 'R')}"
    return f"⏳ {mention(review.reviewer_id)} · due {timestamp(review.due_at, 'R')}"


def _fit(lines: list[str], budget: int) -> str:
    """As many lines as fit in `budget` characters, and a count of the rest."""
    shown: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        if used + len(line) + 1 > budget - 40:
            shown.append(f"… and {len(lines) - i} more lines")
            break
        shown.append(line)
        used += len(line) + 1
    return "\n".join(shown)


def status_card(status: Status) -> Card:
    lines: list[str] = []
    sub = status.submission
    if sub is None:
        lines.append(
            "**Your submission**\nNothing submitted this week or last. Share your work with "
            "`/review submit`."
        )
    else:
        lines.append(f"**Your submission** · {week_text(sub.round_key)}")
        lines.append(f"{submission_label(sub)} <{sub.url}>")
        if status.reviews:
            lines.extend(_reviewer_line(review, status) for review in status.reviews)
        elif status.paired:
            lines.append("Waiting for reviewers: nobody else can review yet this round.")
        else:
            lines.append("Reviewers are assigned when the round is paired.")
    lines.append("")
    lines.append("**Reviews you owe**")
    if status.owed:
        lines.extend(f"• {review_item(review, status.now)}" for review in status.owed)
        lines.append("Mark each with `/review done` when you've given your feedback.")
    else:
        lines.append("None right now — thank you!")
    until = status.pause.until if status.pause is not None else None
    return Card(
        title=f"Peer review — {week_text(status.week.key)}",
        description=_fit(lines, DESCRIPTION_BUDGET),
        fields=() if until is None else (Field("Paused until", timestamp(until, "D")),),
        footer=None if until is None else "You're paused: no new reviews until the date above.",
    )


def completed_text(result: Completed) -> str:
    review = result.review
    what = f"{submission_label(review.submission)} by {mention(review.author_id)}"
    if not result.newly:
        done_at = review.done_at or review.assigned_at
        return f"You had already marked your review of {what} done ({timestamp(done_at, 'R')})."
    told = {
        "dm": "I sent them a DM.",
        "channel": f"I told them in <#{result.channel_id}>.",
        None: "No reviews channel is set, so I couldn't tell them — let them know yourself.",
    }[result.told_by]
    return f"✅ Recorded your review of {what}. {told}"


def paused_text(result: Paused) -> str:
    lines = [
        f"⏸️ Paused until {timestamp(result.until, 'D')}: you won't be asked to review until "
        "then (your own submissions still get reviewed). `/review resume` ends it early."
    ]
    moved, kept = result.stepped_back.moved, result.stepped_back.kept
    if moved:
        lines.append(f"{plural(len(moved), 'open review')} moved to other reviewers.")
    if kept:
        listed = ", ".join(submission_label(r.submission) for r in kept[:5])
        lines.append(
            f"Nobody else could take {plural(len(kept), 'review')} ({listed}), so "
            f"{'it stays' if len(kept) == 1 else 'they stay'} yours."
        )
    return "\n".join(lines)[:MESSAGE_LIMIT]


def resumed_text(resumed: bool) -> str:
    if resumed:
        return "▶️ Welcome back: you'll be in the next pairing."
    return "You weren't paused: you're in the next pairing already."


def pair_text(outcomes: Sequence[PairOutcome], delivered: Delivered, guild_id: int) -> str:
    """What a pairing by hand did, round by round, and where the assignments went."""
    lines = [pairing_summary(outcome) for outcome in outcomes]
    acted = [o for o in outcomes if o.assigned or o.unpaired]
    if acted:
        channel_id = acted[0].channel_id
        if channel_id is None:
            lines.append(NO_CHANNEL)
        elif delivered.message_ids:
            link = message_link(guild_id, channel_id, delivered.message_ids[0])
            lines.append(f"Posted in <#{channel_id}>: {link}")
        else:
            lines.append(f"I couldn't post in <#{channel_id}>: check my permissions there.")
        if delivered.dms:
            lines.append(f"Sent {plural(delivered.dms, 'DM')} to reviewers with reminders on.")
    return "\n".join(lines)[:MESSAGE_LIMIT]


def choice_name(review: Review) -> str:
    """A review owed, as /review done's autocomplete lists it (plain text, not markdown)."""
    sub = review.submission
    name = f"{sub.title or sub.url} (#{sub.id})"
    return name if len(name) <= CHOICE_NAME_LIMIT else name[: CHOICE_NAME_LIMIT - 1] + "…"
