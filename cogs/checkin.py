"""/checkin and /progress: top-level member commands (not in a group)."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.charts import week_label
from bot.formatting import hours_text, plural, safe, timestamp
from bot.services.progress import Progress
from cogs._checks import guild_id_of
from cogs._study_text import checkin_text
from cogs.goals import progress_bar
from cogs.study_buttons import CheckInModal

CHART_FILE = "progress.png"


def progress_embed(progress: Progress, name: str) -> discord.Embed:
    weeks = len(progress.weeks)
    first, last = progress.first_week_start, progress.this_week.week_start
    span = f"{week_label(first)} – {week_label(last)} {last.year}" if weeks > 1 else ""
    embed = discord.Embed(
        title=f"Progress — {name[:100]}",
        description=f"Weeks starting {span} ({plural(weeks, 'week')})"
        if span
        else f"The week of {week_label(last)} {last.year}",
        colour=discord.Colour.blurple(),
    )
    this = progress.this_week
    goals = progress_bar(this.goals_done, this.goals_set) if this.goals_set else "none set"
    embed.add_field(name="Goals this week", value=goals)
    embed.add_field(name="Hours this week", value=hours_text(this.hours or 0.0))
    embed.add_field(name="Weekly average", value=f"{hours_text(round(progress.average_hours, 1))}")
    embed.add_field(name="Streak", value=f"🔥 {plural(progress.streak, 'week')}")
    last_seen = timestamp(progress.last_check_in, "R") if progress.last_check_in else "never"
    embed.add_field(name="Last check-in", value=last_seen)
    embed.set_image(url=f"attachment://{CHART_FILE}")
    return embed


class CheckInCog(commands.Cog):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.checkins = bot.services.checkins
        self.progress_service = bot.services.progress

    @app_commands.command(name="checkin", description="Check in: hours, what you did, what's next")
    @app_commands.guild_only()
    @app_commands.describe(
        hours="Hours studied today",
        done="What you did",
        next="What's next",
        blockers="Anything blocking you",
        mood="1 (rough) to 5 (great)",
    )
    async def checkin(
        self,
        interaction: discord.Interaction[CohortBot],
        hours: app_commands.Range[float, 0.0, 100.0] | None = None,
        done: app_commands.Range[str, 1, 1000] | None = None,
        next: app_commands.Range[str, 1, 1000] | None = None,  # the contract's option name
        blockers: app_commands.Range[str, 1, 1000] | None = None,
        mood: app_commands.Range[int, 1, 5] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        if all(value is None for value in (hours, done, next, blockers, mood)):
            await interaction.response.send_modal(CheckInModal(guild_id))
            return
        result = await self.checkins.record(
            guild_id,
            interaction.user.id,
            hours=hours,
            done=done,
            next_steps=next,
            blockers=blockers,
            mood=mood,
        )
        await interaction.response.send_message(checkin_text(result), ephemeral=True)

    @app_commands.command(name="progress", description="Your weekly hours and goals as a chart")
    @app_commands.guild_only()
    @app_commands.describe(member="Whose progress (default: yours)", weeks="How many weeks")
    async def progress(
        self,
        interaction: discord.Interaction[CohortBot],
        member: discord.Member | None = None,
        weeks: app_commands.Range[int, 1, 52] = 8,
    ) -> None:
        guild_id = guild_id_of(interaction)
        who = member or interaction.user
        # Rendering can take longer than Discord waits for a first answer.
        await interaction.response.defer(ephemeral=True, thinking=True)
        progress = await self.progress_service.progress(guild_id, who.id, weeks)
        png = await self.progress_service.chart(progress, who.display_name)
        await interaction.followup.send(
            embed=progress_embed(progress, safe(who.display_name)),
            file=discord.File(io.BytesIO(png), filename=CHART_FILE),
            ephemeral=True,
        )


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(CheckInCog(bot))
