"""/me: a member's own preferences (timezone, DM reminders)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from cogs._checks import guild_id_of
from cogs._options import timezone_autocomplete


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


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(MeCog(bot))
