"""/review: the peer-review exchange (submit, status, done, pause, resume; pair for moderators)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from cogs._checks import guild_id_of, require_moderator
from cogs._publisher import build_embed
from cogs._review_text import (
    choice_name,
    completed_text,
    pair_text,
    paused_text,
    resumed_text,
    status_card,
    submitted_text,
)


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
        await interaction.response.send_message(
            embed=build_embed(status_card(status)), ephemeral=True
        )

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
        await interaction.response.send_message(resumed_text(resumed), ephemeral=True)

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
