"""The posts and DMs the review service asks for, worded from its notices; the pairing
schedule's own post and the reviews a nudge lists.

Discord-free: ``Post`` data and text that cogs/_publisher.py sends. A post pings exactly the
members it names (100 at most) and holds 2,000 characters at most.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from bot.formatting import inert, plural, week_text
from bot.services.announcements import Pairing, Post
from bot.services.reviews import (
    ChannelNews,
    DirectNews,
    LateReviewers,
    NewReviews,
    ReviewFinished,
    RoundPaired,
    ScheduledRound,
)
from cogs._review_text import (
    MAX_LISTED,
    MESSAGE_LIMIT,
    mention,
    mentions,
    pairing_summary,
    review_item,
    submission_label,
)
from db.repositories.reviews import Review, Submission

#: Discord accepts at most 100 users in a message's allowed mentions.
MENTIONS_PER_MESSAGE = 100
#: What the schedule's own post (an embed description) has room for.
EMBED_TEXT_LIMIT = 4000

# --------------------------------------------------------------------------- pieces


def submission_line(submission: Submission, reviewer_ids: Sequence[int]) -> str:
    who = mentions(reviewer_ids) if reviewer_ids else "no reviewer yet"
    return (
        f"• {submission_label(submission)} by {mention(submission.user_id)} "
        f"<{submission.url}> → {who}"
    )


def listing(lines: Sequence[str], limit: int) -> str:
    """As many whole lines as fit in `limit` characters, then "… and N more" for the rest."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        more = len(lines) - i - 1
        tail = len(f"\n… and {more} more") if more else 0
        if used + len(line) + 1 + tail > limit:
            rest = len(lines) - i
            out.append(f"… and {rest} more")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def pack(
    header: str, lines: Sequence[tuple[str, frozenset[int]]], header_users: Iterable[int] = ()
) -> list[Post]:
    """The header and lines (each with the users it mentions) in as few posts as Discord's
    limits allow: at most 2000 characters and 100 mentioned users each. Each post pings
    exactly the users it mentions."""
    posts: list[Post] = []
    text = header[:MESSAGE_LIMIT]
    users: set[int] = set(header_users)
    for line, line_users in lines:
        if text and (
            len(text) + 1 + len(line) > MESSAGE_LIMIT
            or len(users | line_users) > MENTIONS_PER_MESSAGE
        ):
            posts.append(Post(content=text, user_ids=tuple(sorted(users))))
            text, users = "", set()
        text = f"{text}\n{line}" if text else line[:MESSAGE_LIMIT]
        users |= line_users
    if text:
        posts.append(Post(content=text, user_ids=tuple(sorted(users))))
    return posts


def assignment_lines(added: Sequence[Review]) -> list[tuple[str, frozenset[int]]]:
    """One line per submission with its new reviewers, and the users the line mentions."""
    by_sub: dict[int, list[Review]] = defaultdict(list)
    for review in added:
        by_sub[review.submission.id].append(review)
    lines: list[tuple[str, frozenset[int]]] = []
    for reviews in sorted(by_sub.values(), key=lambda rs: rs[0].submission.id):
        sub = reviews[0].submission
        reviewers = sorted(r.reviewer_id for r in reviews)
        lines.append((submission_line(sub, reviewers), frozenset({sub.user_id, *reviewers})))
    return lines


# ------------------------------------------------------------------ the schedule's post, nudges


def scheduled_pairing_post(rounds: Sequence[ScheduledRound]) -> Pairing:
    """The review-pairing schedule's own post: each round's summary, and the assignments
    that could not be posted in the reviews channel."""
    texts: list[str] = []
    unposted: list[str] = []
    for reported in rounds:
        outcome = reported.outcome
        text = pairing_summary(outcome)
        if outcome.assigned and not reported.posted:
            unposted += [line for line, _ in assignment_lines(outcome.assigned)]
        elif reported.posted:
            text += f" The assignments are in <#{outcome.channel_id}>."
        texts.append(text)
    text = "\n".join(texts)
    if unposted:
        # An embed never pings, so the listing mentions nobody it would notify.
        text = f"{text}\n\n{listing(unposted, EMBED_TEXT_LIMIT - len(text) - 2)}"
    return Pairing(text)


def pending_lines(pending: Mapping[int, Sequence[Review]], now: datetime) -> dict[int, list[str]]:
    """Each member's open reviews, one line each (for DM nudges)."""
    return {user_id: [review_item(r, now) for r in reviews] for user_id, reviews in pending.items()}


# --------------------------------------------------------------------------- notices


def channel_posts(news: ChannelNews) -> list[Post]:
    """What the reviews channel is told: each post pings exactly the members it names."""
    if isinstance(news, ReviewFinished):
        return [Post(content=_finished(news.review), user_ids=(news.review.author_id,))]
    if isinstance(news, RoundPaired):
        outcome = news.outcome
        header = f"**Peer review.** {pairing_summary(outcome)}"
        if outcome.assigned:
            header += " Mark each review with `/review done`."
        # The summary names the submissions left waiting.
        named = {s.user_id for s in outcome.unpaired[:MAX_LISTED]}
        return pack(header, assignment_lines(outcome.assigned), named)
    if isinstance(news, LateReviewers):
        week = week_text(news.week.key)
        header = f"**Peer review — {week}:** new reviewers for a late submission."
        return pack(header, assignment_lines(news.reviews))
    # MovedReviews
    header = "**Peer review:** a reviewer stepped back, so these reviews have new reviewers."
    return pack(header, assignment_lines(news.reviews))


def direct_text(news: DirectNews, group_name: str | None) -> str:
    """A DM to a reviewer about new reviews, or to an author about a finished review."""
    group = inert(group_name or "your study group")
    if isinstance(news, ReviewFinished):
        return _finished(news.review, group)
    return _new_reviews(news, group)


def _new_reviews(news: NewReviews, group: str) -> str:
    mine = news.reviews
    lines = [f"You have {plural(len(mine), 'new peer review')} in **{group}**:"]
    for review in mine[:MAX_LISTED]:
        lines.append(f"• {review_item(review, news.now)}")
        if review.submission.note:
            lines.append(f"  Note: {inert(review.submission.note)}")
    if len(mine) > MAX_LISTED:
        lines.append(f"• … and {len(mine) - MAX_LISTED} more: see `/review status`.")
    lines.append("When you're done, use `/review done` in the server.")
    lines.append("-# You get these because you turned on `/me reminders`.")
    return "\n".join(lines)[:MESSAGE_LIMIT]


def _finished(review: Review, group: str | None = None) -> str:
    """A finished review, told to its author in the channel, or by DM (`group`: where)."""
    sub = review.submission
    reviewer = mention(review.reviewer_id)
    if group is None:
        text = f"{mention(sub.user_id)}: {reviewer} finished reviewing "
        text += f"{submission_label(sub)} <{sub.url}>."
    else:
        text = f"{reviewer} finished reviewing your submission "
        text += f"{submission_label(sub)} in **{group}**: <{sub.url}>"
    feedback = f"\n> {inert(review.feedback)}" if review.feedback else ""
    return (text + feedback)[:MESSAGE_LIMIT]
