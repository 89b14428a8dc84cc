"""/goal: a member's weekly goals (add, list, done, edit, remove, carry)."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.formatting import hours_text, plural, safe, week_text
from bot.services.goals import GOALS_PER_WEEK, WeekChoice, WeekGoals
from cogs._checks import guild_id_of
from cogs._study_text import goal_added_text
from db.repositories.goals import Goal

DESCRIPTION_LIMIT = 4096
CHOICE_NAME_LIMIT = 100
WEEKS: dict[str, WeekChoice] = {"this": "this", "last": "last", "next": "next"}
WEEK_CHOICES = [
    app_commands.Choice(name="this week", value="this"),
    app_commands.Choice(name="last week", value="last"),
    app_commands.Choice(name="next week", value="next"),
]


EMPTY_WEEK = {
    "this": "No goals yet this week. Add one with `/goal add`, or bring last week's "
    "unfinished ones over with `/goal carry`.",
    "last": "No goals last week.",
    "next": "Nothing planned for next week yet.",
}


def progress_bar(done: int, total: int) -> str:
    """'▰▰▰▱▱ 3/5': one segment per goal (at most ten goals a week)."""
    width = min(total, GOALS_PER_WEEK)
    filled = round(width * done / total) if total else 0
    return f"{'▰' * filled}{'▱' * (width - filled)} {done}/{total}"


def _goal_line(goal: Goal, text: str) -> str:
    icon = "✅" if goal.done else "⬜"
    planned = f" · {hours_text(goal.hours)}" if goal.hours else ""
    carried = " ↪" if goal.carried_from else ""
    return f"{icon} {text}{planned}{carried}"


def _shortened(text: str, budget: int) -> str:
    """`safe(text)`, cut (before escaping, so no escape is split) to fit `budget` characters."""
    shown = safe(text)
    cut = len(text)
    while len(shown) > budget and cut > 0:
        cut -= max(1, (len(shown) - budget) // 2)
        shown = safe(text[: max(cut, 0)].rstrip()) + "…"
    return shown


def goal_lines(goals: Sequence[Goal], limit: int = DESCRIPTION_LIMIT - 200) -> list[str]:
    """One line per goal, user text escaped; long texts shortened so all lines fit `limit`."""
    lines = [_goal_line(goal, safe(goal.text)) for goal in goals]
    if sum(len(line) + 1 for line in lines) <= limit:
        return lines
    budget = limit // max(len(goals), 1) - 20  # room for icon, hours and newline
    return [_goal_line(goal, _shortened(goal.text, budget)) for goal in goals]


def week_embed(week: WeekGoals, name: str, which: str) -> discord.Embed:
    title = f"{name[:100]} — goals for the {week_text(week.week.key)}"
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    if not week.goals:
        embed.description = EMPTY_WEEK[which]
        return embed
    lines = goal_lines(week.goals)
    embed.description = "\n".join([progress_bar(week.done, len(week.goals)), "", *lines])
    if week.hours_planned:
        embed.add_field(name="Hours planned", value=hours_text(week.hours_planned))
    embed.set_footer(text="✅ done · ⬜ open · ↪ carried over from the week before")
    return embed


def choice_name(goal: Goal) -> str:
    name = f"{'✅' if goal.done else '⬜'} {goal.text}"
    return name if len(name) <= CHOICE_NAME_LIMIT else name[: CHOICE_NAME_LIMIT - 1] + "…"


async def _suggest(
    interaction: discord.Interaction[CohortBot], current: str, *, open_only: bool
) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    goals = await interaction.client.services.goals.suggestions(
        interaction.guild_id, interaction.user.id, str(current), open_only=open_only
    )
    return [app_commands.Choice(name=choice_name(goal), value=goal.id) for goal in goals]


async def own_goal_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    """The caller's own goals of this week matching what was typed."""
    return await _suggest(interaction, current, open_only=False)


async def open_goal_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    """The caller's own unfinished goals of this week matching what was typed."""
    return await _suggest(interaction, current, open_only=True)


@app_commands.guild_only()
class GoalsCog(commands.GroupCog, group_name="goal", group_description="Your weekly goals"):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.goals = bot.services.goals
        super().__init__()

    @app_commands.command(name="add", description="Add a goal for this study week")
    @app_commands.describe(text="What you want to get done", hours="Hours you plan for it")
    async def add(
        self,
        interaction: discord.Interaction[CohortBot],
        text: app_commands.Range[str, 1, 200],
        hours: app_commands.Range[float, 0.5, 80.0] | None = None,
    ) -> None:
        goal = await self.goals.add(guild_id_of(interaction), interaction.user.id, text, hours)
        await interaction.response.send_message(goal_added_text(goal), ephemeral=True)

    @app_commands.command(name="list", description="Show goals for a week")
    @app_commands.describe(member="Whose goals (default: yours)", week="Which week")
    @app_commands.choices(week=WEEK_CHOICES)
    async def list_goals(
        self,
        interaction: discord.Interaction[CohortBot],
        member: discord.Member | None = None,
        week: app_commands.Choice[str] | None = None,
    ) -> None:
        who = member or interaction.user
        which = WEEKS.get(week.value if week else "this", "this")
        goals = await self.goals.week_goals(guild_id_of(interaction), who.id, which)
        embed = week_embed(goals, safe(who.display_name), which)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="done", description="Mark one of your goals done")
    @app_commands.describe(goal="Start typing to pick one of your open goals")
    @app_commands.autocomplete(goal=open_goal_autocomplete)
    async def done(self, interaction: discord.Interaction[CohortBot], goal: int) -> None:
        result = await self.goals.mark_done(guild_id_of(interaction), interaction.user.id, goal)
        text = safe(result.goal.text)
        bar = progress_bar(result.week.done, len(result.week.goals))
        if result.newly_done:
            message = f"✅ Done: **{text}**\nThis week: {bar}"
        else:
            message = f"**{text}** was already done. This week: {bar}"
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="edit", description="Change the text of one of your goals")
    @app_commands.describe(goal="Start typing to pick one of your goals", text="The new text")
    @app_commands.autocomplete(goal=own_goal_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction[CohortBot],
        goal: int,
        text: app_commands.Range[str, 1, 200],
    ) -> None:
        edited = await self.goals.edit(guild_id_of(interaction), interaction.user.id, goal, text)
        await interaction.response.send_message(f"Updated: **{safe(edited.text)}**", ephemeral=True)

    @app_commands.command(name="remove", description="Remove one of your goals")
    @app_commands.describe(goal="Start typing to pick one of your goals")
    @app_commands.autocomplete(goal=own_goal_autocomplete)
    async def remove(self, interaction: discord.Interaction[CohortBot], goal: int) -> None:
        removed = await self.goals.remove(guild_id_of(interaction), interaction.user.id, goal)
        await interaction.response.send_message(
            f"Removed: ~~{safe(removed.text)}~~", ephemeral=True
        )

    @app_commands.command(name="carry", description="Copy last week's unfinished goals here")
    async def carry(self, interaction: discord.Interaction[CohortBot]) -> None:
        result = await self.goals.carry(guild_id_of(interaction), interaction.user.id)
        lines: list[str] = []
        if result.copied:
            lines.append(
                f"Carried {plural(len(result.copied), 'goal')} into the "
                f"{week_text(result.week.key)}:"
            )
            budget = 1600 // len(result.copied)  # the reply stays within 2000 characters
            lines.extend(f"⬜ {_shortened(goal.text, budget)}" for goal in result.copied)
        elif not result.skipped:
            lines.append(
                "Nothing to carry: last week's goals are all done or already carried over."
            )
        if result.copied and result.already:
            lines.append(f"{plural(result.already, 'goal')} had been carried over already.")
        if result.skipped:
            lines.append(
                f"Skipped {plural(result.skipped, 'goal')}: a week holds at most "
                f"{GOALS_PER_WEEK} goals. Finish or remove some, then carry again."
            )
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True)


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(GoalsCog(bot))
