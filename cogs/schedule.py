"""/schedule: moderators set up automatic posts (reminders, prompts, summaries, pairing)."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.domain.weeks import parse_timezone
from bot.errors import InvalidInput, UserError
from bot.formatting import plural, safe, timestamp
from bot.scheduler import FireResult
from bot.services.announcements import ADD_GOAL, CHECK_IN, PLAN_WEEK
from bot.services.schedules import ScheduleInfo
from bot.tree import handle_error
from cogs._checks import caller_is_moderator, guild_id_of, require_moderator
from cogs._paging import page_button, pager_view
from cogs._plan_views import PlanWeekButton
from cogs._publisher import DiscordPublisher
from cogs.settings import missing_post_permissions
from cogs.study_buttons import AddGoalButton, CheckInButton
from db.repositories.schedules import SCHEDULE_KINDS

EMBED_BUDGET = 5500  # field characters per list page (Discord allows 6000 across a message)
FIELDS_PER_EMBED = 25


def describe_channel_problem(channel: discord.TextChannel) -> str | None:
    missing = missing_post_permissions(channel)
    if not missing:
        return None
    needed = ", ".join(name.replace("_", " ").title() for name in missing)
    return f"I can't post in {channel.mention}: I'm missing {needed} there."


def next_fire_text(info: ScheduleInfo) -> str:
    if info.schedule.paused:
        return "paused"
    if info.schedule.disabled_reason:
        return "disabled"
    if info.next_fire is None:
        return "no further fire time"
    local = info.next_fire.astimezone(parse_timezone(info.timezone))
    return f"{local:%a %d %b %H:%M} ({info.timezone}) · {timestamp(info.next_fire)}"


def schedule_field(info: ScheduleInfo) -> tuple[str, str]:
    s = info.schedule
    name = f"#{s.id} · {s.kind}" + (" · paused" if s.paused else "")
    lines = [f"{info.description} in <#{s.channel_id}>", f"Next: {next_fire_text(info)}"]
    if s.message:
        preview = safe(s.message)
        lines.append(f"Message: {preview[:150]}{'…' if len(preview) > 150 else ''}")
    if s.disabled_reason:
        lines.append(f"⚠️ Disabled: {s.disabled_reason}")
    if s.created_by is None:
        lines.append("-# Part of the default weekly rhythm")
    return name, "\n".join(lines)[:1024]


def list_pages(infos: list[ScheduleInfo]) -> list[list[tuple[str, str]]]:
    """Schedules as embed fields, in pages of one embed each: Discord counts 6,000 characters
    across all of a message's embeds, so each page (a message of its own) keeps to one budget."""
    pages: list[list[tuple[str, str]]] = [[]]
    used = 0
    for info in infos:
        name, value = schedule_field(info)
        if pages[-1] and (
            len(pages[-1]) >= FIELDS_PER_EMBED or used + len(name) + len(value) > EMBED_BUDGET
        ):
            pages.append([])
            used = 0
        pages[-1].append((name, value))
        used += len(name) + len(value)
    return pages


def list_page(infos: list[ScheduleInfo], page: int) -> tuple[discord.Embed, discord.ui.View | None]:
    """One page of `/schedule list` (clamped to the pages there are) and its buttons."""
    title = "Schedules"
    if not infos:
        empty = discord.Embed(
            title=title,
            description="No schedules yet. Add one with `/schedule add`.",
            colour=discord.Colour.blurple(),
        )
        return empty, None
    pages = list_pages(infos)
    page = min(max(page, 1), len(pages))
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    for name, value in pages[page - 1]:
        embed.add_field(name=name, value=value, inline=False)
    count = plural(len(infos), "schedule")
    if len(pages) == 1:
        embed.set_footer(text=count)
        return embed, None
    embed.set_footer(text=f"Page {page} of {len(pages)} · {count}")
    return embed, pager_view(page, len(pages), ListPageButton)


class ListPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:schedule-list:(?P<page>[0-9]{1,3}):(?P<way>[pn])",
):
    """Previous / next page of `/schedule list`, for moderators (checked again on each press)."""

    def __init__(self, page: int, way: str, disabled: bool = False) -> None:
        super().__init__(page_button(f"cohort:schedule-list:{page}:{way}", way, disabled))
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ListPageButton:
        return cls(int(match["page"]), match["way"])

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        try:
            await require_moderator(interaction)
            infos = await interaction.client.services.schedules.for_guild(guild_id_of(interaction))
            embed, view = list_page(infos, self.page)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await handle_error(interaction, error)


def result_text(result: FireResult, link: str | None) -> str:
    if result.status == "sent":
        return f"Posted: {link}" if link else "Posted."
    if result.status == "disabled":
        return (
            f"I couldn't post it: {result.reason} The schedule is now disabled; "
            "`/schedule resume` starts it again once that is fixed."
        )
    if result.status == "skipped":
        return "That run is already being posted."
    if result.status == "failed":
        return f"Discord refused the post: {(result.reason or '')[:200]}"
    return "Discord didn't take the post right now; Cohort will try again in a minute."


async def schedule_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    """This guild's schedules, for moderators only (autocomplete skips interaction_check)."""
    if interaction.guild_id is None or not await caller_is_moderator(interaction):
        return []
    choices = await interaction.client.services.schedules.choices(interaction.guild_id, current)
    return [app_commands.Choice(name=label, value=sid) for sid, label in choices]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ScheduleCog(
    commands.GroupCog, group_name="schedule", group_description="Automatic posts on a schedule"
):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.service = bot.services.schedules
        self.scheduler = bot.services.scheduler
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        await require_moderator(interaction)
        return True

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.scheduler.channel_deleted(channel.guild.id, channel.id)

    @app_commands.command(name="add", description="Post something on a schedule")
    @app_commands.describe(
        kind="What to post",
        when="e.g. mon 09:00, mon,thu 18:30, daily 07:00, 2026-12-01 09:00 or a cron expression",
        channel="Where to post",
        message="The text of a reminder (mention a role as <@&id> to ping it)",
    )
    @app_commands.choices(kind=[app_commands.Choice(name=k, value=k) for k in SCHEDULE_KINDS])
    async def add(
        self,
        interaction: discord.Interaction[CohortBot],
        kind: app_commands.Choice[str],
        when: app_commands.Range[str, 1, 100],
        channel: discord.TextChannel,
        message: app_commands.Range[str, 1, 1500] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        if channel.guild.id != guild_id:
            raise InvalidInput("That channel belongs to another server.")
        problem = describe_channel_problem(channel)
        if problem:
            raise InvalidInput(f"{problem} Grant them and try again; nothing was added.")
        info = await self.service.add(
            guild_id, kind.value, when, channel.id, message, interaction.user.id
        )
        await interaction.response.send_message(
            f"Added schedule **#{info.schedule.id}** ({info.schedule.kind}): "
            f"{info.description} in {channel.mention}.\nNext: {next_fire_text(info)}",
            ephemeral=True,
        )

    @app_commands.command(name="list", description="This server's schedules and when they fire")
    async def list_(self, interaction: discord.Interaction[CohortBot]) -> None:
        infos = await self.service.for_guild(guild_id_of(interaction))
        embed, view = list_page(infos, 1)
        if view is None:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="remove", description="Delete a schedule")
    @app_commands.autocomplete(schedule=schedule_autocomplete)
    async def remove(self, interaction: discord.Interaction[CohortBot], schedule: int) -> None:
        removed = await self.service.remove(guild_id_of(interaction), schedule)
        await interaction.response.send_message(
            f"Removed schedule #{removed.id} ({removed.kind}).", ephemeral=True
        )

    @app_commands.command(name="pause", description="Stop a schedule until it is resumed")
    @app_commands.autocomplete(schedule=schedule_autocomplete)
    async def pause(self, interaction: discord.Interaction[CohortBot], schedule: int) -> None:
        info = await self.service.pause(guild_id_of(interaction), schedule)
        await interaction.response.send_message(
            f"Paused schedule #{info.schedule.id} ({info.schedule.kind}). "
            "`/schedule resume` starts it again.",
            ephemeral=True,
        )

    @app_commands.command(name="resume", description="Start a paused or disabled schedule again")
    @app_commands.autocomplete(schedule=schedule_autocomplete)
    async def resume(self, interaction: discord.Interaction[CohortBot], schedule: int) -> None:
        guild_id = guild_id_of(interaction)
        current = await self.service.get(guild_id, schedule)
        channel = interaction.guild.get_channel(current.channel_id) if interaction.guild else None
        if current.disabled_reason is not None:
            if not isinstance(channel, discord.TextChannel):
                raise UserError(
                    f"Schedule #{schedule}'s channel is gone: remove it and add a new one."
                )
            problem = describe_channel_problem(channel)
            if problem:
                raise UserError(f"{problem} Grant them, then resume it.")
        info = await self.service.resume(guild_id, schedule)
        await interaction.response.send_message(
            f"Schedule #{info.schedule.id} is running again. Next: {next_fire_text(info)}",
            ephemeral=True,
        )

    @app_commands.command(name="run", description="Post a schedule now (its cadence stays)")
    @app_commands.autocomplete(schedule=schedule_autocomplete)
    async def run(self, interaction: discord.Interaction[CohortBot], schedule: int) -> None:
        guild_id = guild_id_of(interaction)
        current = await self.service.get(guild_id, schedule)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.scheduler.run_now(guild_id, schedule)
        link = (
            DiscordPublisher.message_link(guild_id, current.channel_id, result.message_id)
            if result.message_id
            else None
        )
        await interaction.followup.send(result_text(result, link), ephemeral=True)


def study_view(buttons: tuple[str, ...], guild_id: int) -> discord.ui.View | None:
    """The persistent buttons a scheduled post carries (they work after a restart)."""
    items = {ADD_GOAL: AddGoalButton, CHECK_IN: CheckInButton, PLAN_WEEK: PlanWeekButton}
    chosen = [items[name] for name in buttons if name in items]
    if not chosen:
        return None
    view = discord.ui.View(timeout=None)
    for item in chosen:
        view.add_item(item(guild_id))
    return view


async def setup(bot: CohortBot) -> None:
    bot.add_dynamic_items(ListPageButton)
    await bot.add_cog(ScheduleCog(bot))
