"""Autocomplete shared by several cogs."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.domain.weeks import timezone_choices


async def timezone_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """IANA names matching what was typed; Discord accepts at most 25."""
    return [app_commands.Choice(name=name, value=name) for name in timezone_choices(current)]
