"""/review: the peer-review exchange (submit, status, done, pause, resume; pair for moderators)."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.formatting import plural, timestamp, week_text
from bot.services.reviews import (
    Completed,
    Delivered,
    PairOutcome,
    Paused,
    Status,
    Submitted,
    mention,
    review_item,
    submission_label,
)
from cogs._checks import guild_id_of, require_moderator
from cogs._publisher import DiscordPublisher
from db.repositories.reviews import Review

DESCRIPTION_BUDGET = 4000
CHOICE_NAME_LIMIT = 100
NO_CHANNEL = (
    "No reviews channel is set (`/settings channel purpose:reviews`), so nothing was posted; "
    "members see their reviews with `/review status`."
)


def _mentions(user_ids: Sequence[int]) -> str:
    return ", ".join(mention(u) for u in user_ids)


def submitted_text(result: Submitted) -> str:
    sub = result.submission
    verb = "Submitted" if result.created else "Updated your submission"
    lines = [f"📝 {verb} for the {week_text(result.week.key)}: {submission_label(sub)} <{sub.url}>"]
    if result.assigned:
        lines.append(
            "The round was paired already, so you got reviewers at once: "
            f"{_mentions([r.reviewer_id for r in result.reviews])}."
        )
    elif result.waiting:
        lines.append(
            "The round was paired already and nobody else can review yet: you'll get "
            "reviewers as soon as someone else submits this week."
        )
    elif result.reviews:
        lines.append(f"Your reviewers stay: {_mentions([r.reviewer_id for r in result.reviews])}.")
    else:
        lines.append("You'll get reviewers when the round is paired; `/review status` shows them.")
    if result.paused_until is not None:
        lines.append(
            f"-# You're paused until {timestamp(result.paused_until, 'D')}, so you won't be "
            "asked to review."
        )
    return "\n".join(lines)[:2000]


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


def status_embed(status: Status) -> discord.Embed:
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
    embed = discord.Embed(
        title=f"Peer review — {week_text(status.week.key)}",
        description=_fit(lines, DESCRIPTION_BUDGET),
        colour=discord.Colour.blurple(),
    )
    if status.pause is not None and status.pause.until is not None:
        embed.set_footer(text="You're paused: no new reviews until the date above.")
        embed.add_field(name="Paused until", value=timestamp(status.pause.until, "D"))
    return embed


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
    return "\n".join(lines)[:2000]


def pair_text(outcomes: Sequence[PairOutcome], delivered: Delivered, guild_id: int) -> str:
    """What a pairing by hand did, round by round, and where the assignments went."""
    lines = [outcome.summary for outcome in outcomes]
    acted = [o for o in outcomes if o.assigned or o.unpaired]
    if acted:
        channel_id = acted[0].channel_id
        if channel_id is None:
            lines.append(NO_CHANNEL)
        elif delivered.message_ids:
            link = DiscordPublisher.message_link(guild_id, channel_id, delivered.message_ids[0])
            lines.append(f"Posted in <#{channel_id}>: {link}")
        else:
            lines.append(f"I couldn't post in <#{channel_id}>: check my permissions there.")
        if delivered.dms:
            lines.append(f"Sent {plural(delivered.dms, 'DM')} to reviewers with reminders on.")
    return "\n".join(lines)[:2000]


def choice_name(review: Review) -> str:
    sub = review.submission
    name = f"{sub.title or sub.url} (#{sub.id})"
    return name if len(name) <= CHOICE_NAME_LIMIT else name[: CHOICE_NAME_LIMIT - 1] + "…"


async def owed_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    """The reviews the caller owes, matching what was typed."""
    if interaction.guild_id is None:
        return []
    reviews = await interaction.client.services.reviews.owed_suggestions(
        interaction.guild_id, interaction.user.id, str(current)
    )
    return [app_commands.Choice(name=choice_name(r), value=r.submission.id) for r in reviews]


@app_commands.guild_only()
class ReviewCog(commands.GroupCog, group_name="review", group_description="Peer review exchange"):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.reviews = bot.services.reviews
        super().__init__()

    @app_commands.command(name="submit", description="Share your work for peer review")
    @app_commands.describe(
        link="Where reviewers find it (http:// or https://)",
        title="A short title",
        note="What you'd like feedback on",
    )
    async def submit(
        self,
        interaction: discord.Interaction[CohortBot],
        link: app_commands.Range[str, 1, 500],
        title: app_commands.Range[str, 1, 100] | None = None,
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        result = await self.reviews.submit(
            guild_id_of(interaction), interaction.user.id, link, title, note
        )
        await interaction.response.send_message(submitted_text(result), ephemeral=True)
        await self.reviews.deliver(result.notices)

    @app_commands.command(name="status", description="Your submission and the reviews you owe")
    async def status(self, interaction: discord.Interaction[CohortBot]) -> None:
        status = await self.reviews.status(guild_id_of(interaction), interaction.user.id)
        await interaction.response.send_message(embed=status_embed(status), ephemeral=True)

    @app_commands.command(name="done", description="Mark a review you gave as done")
    @app_commands.describe(
        submission="Start typing to pick a review you owe", feedback="Your feedback (optional)"
    )
    @app_commands.autocomplete(submission=owed_autocomplete)
    async def done(
        self,
        interaction: discord.Interaction[CohortBot],
        submission: int,
        feedback: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        result = await self.reviews.done(
            guild_id_of(interaction), interaction.user.id, submission, feedback
        )
        await interaction.response.send_message(completed_text(result), ephemeral=True)
        await self.reviews.deliver(result.notices)

    @app_commands.command(name="pause", description="No review assignments for a while")
    @app_commands.describe(weeks="How many weeks (1–12)")
    async def pause(
        self, interaction: discord.Interaction[CohortBot], weeks: app_commands.Range[int, 1, 12]
    ) -> None:
        result = await self.reviews.pause(guild_id_of(interaction), interaction.user.id, weeks)
        await interaction.response.send_message(paused_text(result), ephemeral=True)
        await self.reviews.deliver(result.stepped_back.notices)

    @app_commands.command(name="resume", description="Take review assignments again")
    async def resume(self, interaction: discord.Interaction[CohortBot]) -> None:
        resumed = await self.reviews.resume(guild_id_of(interaction), interaction.user.id)
        message = (
            "▶️ Welcome back: you'll be in the next pairing."
            if resumed
            else "You weren't paused: you're in the next pairing already."
        )
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(
        name="pair", description="Moderators: pair every submission waiting for reviewers now"
    )
    async def pair(self, interaction: discord.Interaction[CohortBot]) -> None:
        await require_moderator(interaction)
        guild_id = guild_id_of(interaction)
        # A large round takes a moment, and posting it more.
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcomes = await self.reviews.pair_waiting(guild_id, by=interaction.user.id)
        delivered = await self.reviews.deliver(n for o in outcomes for n in o.notices)
        await interaction.followup.send(pair_text(outcomes, delivered, guild_id), ephemeral=True)


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(ReviewCog(bot))
