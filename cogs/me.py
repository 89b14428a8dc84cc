"""/me: a member's own preferences (timezone, DM reminders, time away) and their own data."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.formatting import plural, timestamp
from bot.services.away import AwayOutcome
from cogs._checks import guild_id_of
from cogs._forget import ASK, ForgetButton, confirm_view, refuse_forged_press
from cogs._options import timezone_autocomplete


def away_text(result: AwayOutcome) -> str:
    if result.until is None:
        if result.was_away:
            return "👋 Welcome back! Nudges and review assignments are on again."
        return "You weren't away: nothing changed."
    lines = [
        f"🏖️ Away until {timestamp(result.until, 'D')}: no nudges and no review assignments, "
        "your streak waits for you and your plan's target moves by the time you're away. "
        "`/me away 0` when you're back early."
    ]
    if result.paused is not None:
        moved, kept = result.paused.stepped_back.moved, result.paused.stepped_back.kept
        if moved:
            lines.append(f"{plural(len(moved), 'open review')} moved to other reviewers.")
        if kept:
            lines.append(f"Nobody else could take {plural(len(kept), 'review')}: still yours.")
    return "\n".join(lines)


@app_commands.guild_only()
class MeCog(commands.GroupCog, group_name="me", group_description="Your own Cohort preferences"):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.preferences = bot.services.member_preferences
        super().__init__()

    @app_commands.command(
        name="timezone", description="Your own timezone (decides your check-in day)"
    )
    @app_commands.describe(tz="For example Asia/Kolkata; 'reset' to use the group's timezone")
    @app_commands.autocomplete(tz=timezone_autocomplete)
    async def timezone(
        self, interaction: discord.Interaction[CohortBot], tz: app_commands.Range[str, 1, 64]
    ) -> None:
        prefs = await self.preferences.set_timezone(
            guild_id_of(interaction), interaction.user.id, tz
        )
        if prefs.timezone is None:
            message = "You now follow the group's timezone."
        else:
            message = f"Your timezone is now **{prefs.timezone}**."
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="reminders", description="Turn DM nudges on or off")
    async def reminders(self, interaction: discord.Interaction[CohortBot], enabled: bool) -> None:
        await self.preferences.set_reminders(guild_id_of(interaction), interaction.user.id, enabled)
        message = (
            "DM reminders are **on**: I'll nudge you before check-ins and about reviews you owe."
            if enabled
            else "DM reminders are **off**."
        )
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="away", description="Time off: no nudges or reviews, plan kept")
    @app_commands.describe(weeks="How many weeks (1–12); 0 = you're back")
    async def away(
        self, interaction: discord.Interaction[CohortBot], weeks: app_commands.Range[int, 0, 12]
    ) -> None:
        result = await self.bot.services.away.go(
            guild_id_of(interaction), interaction.user.id, weeks
        )
        await interaction.response.send_message(away_text(result), ephemeral=True)
        if result.paused is not None:
            await self.bot.services.reviews.deliver(result.paused.stepped_back.notices)

    @app_commands.command(name="data", description="Everything Cohort stores about you, as JSON")
    async def data(self, interaction: discord.Interaction[CohortBot]) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await self.bot.services.member_data.export_json(guild_id, interaction.user.id)
        await interaction.followup.send(
            "Everything Cohort stores about you in this server. `/me forget` deletes it.",
            file=discord.File(io.BytesIO(data), filename="cohort-my-data.json"),
            ephemeral=True,
        )

    @app_commands.command(name="forget", description="Delete everything Cohort stores about you")
    async def forget(self, interaction: discord.Interaction[CohortBot]) -> None:
        guild_id = guild_id_of(interaction)
        issued = int(self.bot.clock.now().timestamp())
        await interaction.response.send_message(
            ASK, view=confirm_view(guild_id, interaction.user.id, issued), ephemeral=True
        )


async def setup(bot: CohortBot) -> None:
    bot.add_dynamic_items(ForgetButton)
    bot.add_listener(refuse_forged_press, "on_interaction")
    await bot.add_cog(MeCog(bot))


async def teardown(bot: CohortBot) -> None:
    bot.remove_dynamic_items(ForgetButton)
    bot.remove_listener(refuse_forged_press, "on_interaction")
