"""/settings: moderators configure the group (timezone, week start, channels, role, reviewers)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.errors import InvalidInput
from cogs._checks import guild_id_of, require_moderator
from cogs._options import timezone_autocomplete
from db.repositories.guild_settings import CHANNEL_PURPOSES, GuildSettings

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# What the bot needs wherever it posts: see and send, embeds for cards, files for charts.
POSTING_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files")


def missing_post_permissions(channel: discord.TextChannel) -> list[str]:
    me = channel.guild.me
    if me is None:  # not cached: Discord will tell us when we post
        return []
    granted = channel.permissions_for(me)
    return [name for name in POSTING_PERMISSIONS if not getattr(granted, name)]


def settings_embed(settings: GuildSettings) -> discord.Embed:
    def channel(channel_id: int | None) -> str:
        return f"<#{channel_id}>" if channel_id else "not set"

    embed = discord.Embed(title="Cohort settings", colour=discord.Colour.blurple())
    embed.add_field(name="Timezone", value=settings.timezone)
    embed.add_field(name="Week starts on", value=WEEKDAYS[settings.week_start])
    embed.add_field(name="Reviewers per submission", value=str(settings.reviewers_per_submission))
    for purpose in CHANNEL_PURPOSES:
        embed.add_field(
            name=f"{purpose.capitalize()} channel",
            value=channel(getattr(settings, f"{purpose}_channel_id")),
        )
    role = settings.moderator_role_id
    embed.add_field(
        name="Moderator role", value=f"<@&{role}>" if role else "only Manage Server", inline=False
    )
    return embed


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class SettingsCog(commands.GroupCog, group_name="settings", group_description="Configure Cohort"):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.service = bot.services.guild_settings
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        await require_moderator(interaction)
        return True

    @app_commands.command(name="show", description="Show this server's Cohort settings")
    async def show(self, interaction: discord.Interaction[CohortBot]) -> None:
        settings = await self.service.get(guild_id_of(interaction))
        await interaction.response.send_message(embed=settings_embed(settings), ephemeral=True)

    @app_commands.command(name="timezone", description="Set the group's timezone (IANA name)")
    @app_commands.describe(tz="For example Europe/Berlin or America/New_York")
    @app_commands.autocomplete(tz=timezone_autocomplete)
    async def timezone(
        self, interaction: discord.Interaction[CohortBot], tz: app_commands.Range[str, 1, 64]
    ) -> None:
        settings = await self.service.set_timezone(guild_id_of(interaction), tz)
        await interaction.response.send_message(
            f"The group's timezone is now **{settings.timezone}**. Study weeks and schedules "
            "follow it from now on.",
            ephemeral=True,
        )

    @app_commands.command(name="week-start", description="Set the day the study week starts")
    @app_commands.choices(
        day=[app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)]
    )
    async def week_start(
        self, interaction: discord.Interaction[CohortBot], day: app_commands.Choice[int]
    ) -> None:
        await self.service.set_week_start(guild_id_of(interaction), day.value)
        await interaction.response.send_message(
            f"Study weeks now start on **{day.name}** at 00:00 group time.", ephemeral=True
        )

    @app_commands.command(name="channel", description="Choose where Cohort posts")
    @app_commands.choices(purpose=[app_commands.Choice(name=p, value=p) for p in CHANNEL_PURPOSES])
    async def channel(
        self,
        interaction: discord.Interaction[CohortBot],
        purpose: app_commands.Choice[str],
        channel: discord.TextChannel,
    ) -> None:
        guild_id = guild_id_of(interaction)
        if channel.guild.id != guild_id:
            raise InvalidInput("That channel belongs to another server.")
        missing = missing_post_permissions(channel)
        if missing:
            needed = ", ".join(name.replace("_", " ").title() for name in missing)
            raise InvalidInput(
                f"I can't post in {channel.mention}: I'm missing {needed} there. "
                "Grant them and try again; nothing was changed."
            )
        await self.service.set_channel(guild_id, purpose.value, channel.id)
        reply = f"{purpose.value.capitalize()} will be posted in {channel.mention}."
        created = self.bot.services.schedules.take_new_defaults(guild_id)
        if created:
            listed = "\n".join(
                f"• #{i.schedule.id} {i.schedule.kind}: {i.description} "
                f"in <#{i.schedule.channel_id}>"
                for i in created
            )
            reply += (
                f"\n\nI set up a weekly rhythm ({created[0].timezone} time):\n{listed}\n"
                "Change it with `/schedule list`, `/schedule remove` and `/schedule add`."
            )
        await interaction.response.send_message(reply, ephemeral=True)

    @app_commands.command(
        name="moderator-role", description="Members with this role moderate Cohort"
    )
    async def moderator_role(
        self, interaction: discord.Interaction[CohortBot], role: discord.Role
    ) -> None:
        await self.service.set_moderator_role(guild_id_of(interaction), role.id)
        await interaction.response.send_message(
            f"Members with {role.mention} can now use moderator commands.", ephemeral=True
        )

    @app_commands.command(name="reviewers", description="Reviewers per peer-review submission")
    async def reviewers(
        self, interaction: discord.Interaction[CohortBot], count: app_commands.Range[int, 1, 3]
    ) -> None:
        await self.service.set_reviewers(guild_id_of(interaction), count)
        await interaction.response.send_message(
            f"Each submission will get **{count}** reviewer{'s' if count > 1 else ''}.",
            ephemeral=True,
        )


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(SettingsCog(bot))
