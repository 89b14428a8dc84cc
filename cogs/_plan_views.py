"""What /plan and /group plans show, and the persistent *Plan my week* button.

The button's custom_id (`cohort:plan-week[:guild]`) is parsed on every press, so it works on any
earlier goal prompt after a restart; it acts for whoever presses it, in its own guild only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import discord

from bot.bot import CohortBot
from bot.domain.plans import Assessment
from bot.formatting import MONTHS, plural, rounded_hours_text, safe
from bot.services.plans import CourseView, PlanView, Standing, WeekAdded, WeekPlan, gap_text
from bot.tree import handle_error
from cogs._guild_buttons import check_guild, guild_custom_id, guild_from
from db.repositories.plans import Imported

PLAN_WEEK_BUTTON_ID = "cohort:plan-week"
CHART_FILE = "plan.png"
MODULES_LISTED = 6
PAGE_CHARS = 3800
PAGE_LINES = 30
# What an embed may hold in all (6,000), less room for the title and footer.
EMBED_BUDGET = 5600


def day_text(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def pace_text(hours: float) -> str:
    return f"{rounded_hours_text(hours)}/week"


def verdict(a: Assessment) -> str:
    if a.finished:
        return "🎉 Finished"
    if a.away:
        return "🏖️ Away"
    return "✅ On track" if a.on_track else "⚠️ Behind"


def position_text(a: Assessment) -> str:
    if a.finished:
        return "every module done"
    if abs(a.ahead_hours) < 0.5:
        return "right on the plan's line"
    side = "ahead" if a.ahead_hours > 0 else "behind"
    return f"{gap_text(a)} {side}"


def plan_embed(view: PlanView, name: str, *, chart: bool) -> discord.Embed:
    a = view.assessment
    course = view.course.course
    embed = discord.Embed(
        title=f"{name} — {safe(course.title)}"[:256],
        description=f"**{verdict(a)}** · {position_text(a)}",
        colour=discord.Colour.green() if a.on_track else discord.Colour.gold(),
    )
    embed.add_field(
        name="Modules", value=f"{a.modules_done} of {a.modules_done + a.modules_left} done"
    )
    embed.add_field(
        name="Hours left",
        value=f"{rounded_hours_text(a.hours_left)} of {rounded_hours_text(a.total_hours)}",
    )
    embed.add_field(name="Pace needed", value=pace_text(a.pace_needed))
    embed.add_field(
        name="Pace kept",
        value=pace_text(a.pace_kept) + " (recent weeks)" if a.pace_kept is not None else "—",
    )
    target = day_text(a.target)
    if a.shift_days:
        target += f"\n-# moved {plural(a.shift_days, 'day')} for time away"
    embed.add_field(name="Target", value=target)
    if a.finished:
        projected = "done"
    elif a.projected is not None:
        projected = day_text(a.projected)
    else:
        projected = "— (no hours checked in lately)"
    embed.add_field(name="Projected finish", value=projected)
    left = view.left
    if left:
        lines = [
            f"• {safe(m.title)} · {rounded_hours_text(m.hours)}" for m in left[:MODULES_LISTED]
        ]
        if len(left) > MODULES_LISTED:
            lines.append(f"• … and {len(left) - MODULES_LISTED} more")
        embed.add_field(name="Next up", value="\n".join(lines)[:1024], inline=False)
    if view.away_until is not None:
        embed.add_field(name="Away until", value=f"<t:{int(view.away_until.timestamp())}:D>")
    embed.set_footer(
        text="Pace kept: hours checked in per week · on track at 90% of the pace needed"
    )
    if chart:
        embed.set_image(url=f"attachment://{CHART_FILE}")
    return embed


def done_text(view: PlanView, module_id: int, newly: bool, *, undo: bool = False) -> str:
    title = next((safe(m.title) for m in view.course.modules if m.id == module_id), "that module")
    a = view.assessment
    if undo:
        head = f"↩️ **{title}** is unfinished again." if newly else f"**{title}** was not finished."
    else:
        head = f"✅ Finished **{title}**!" if newly else f"**{title}** was already finished."
    projected = day_text(a.projected) if a.projected else "— (check in your hours to see it)"
    if a.finished:
        projected = "done 🎉"
    return (
        f"{head}\n{a.modules_done} of {a.modules_done + a.modules_left} modules · "
        f"{rounded_hours_text(a.hours_left)} left · projected finish **{projected}** · "
        f"{verdict(a)} ({position_text(a)})"
    )


def week_text(plan: WeekPlan) -> str:
    if not plan.shares:
        return "Nothing left to plan: every module of your course is done. 🎉"
    lines = [f"**This week's share of your plan: {rounded_hours_text(plan.hours)}**"]
    lines += [
        f"• {safe(s.module.title)} · {rounded_hours_text(s.hours)}"
        + (f" of {rounded_hours_text(s.module.hours)}" if s.hours < s.module.hours else "")
        for s in plan.shares
    ]
    if plan.added_before:
        lines.append("-# Already added to your goals this week.")
    else:
        lines.append("Press **Plan my week** to add these as goals.")
    return "\n".join(lines)[:2000]


def week_added_text(result: WeekAdded) -> str:
    if not result.plan.shares:
        return week_text(result.plan)
    if not result.added and not result.skipped:
        return "You already added this week of your plan to your goals — see `/goal list`."
    lines = [f"Added {plural(len(result.added), 'goal')} for this week:"]
    lines += [f"• {safe(text)}" for text in result.added]
    if result.skipped:
        lines.append(f"{plural(result.skipped, 'goal')} did not fit (10 goals a week at most).")
    return "\n".join(lines)[:2000]


def courses_embed(views: Sequence[CourseView]) -> discord.Embed:
    """The courses with their modules, within an embed's 6,000 characters (long module lists
    are cut; courses that no longer fit are counted in the footer)."""
    embed = discord.Embed(title="Courses", colour=discord.Colour.blurple())
    budget = EMBED_BUDGET
    shown = 0
    for view in views[:25]:
        lines = [
            f"{i}. {safe(m.title)} · {rounded_hours_text(m.hours)}"
            for i, m in enumerate(view.modules, start=1)
        ]
        body = "\n".join(lines)
        limit = min(1000, budget - 300)
        if limit < 100:
            break
        if len(body) > limit:
            body = body[: limit - 10].rsplit("\n", 1)[0] + "\n…"
        name = f"{view.course.title} ({view.course.key}) · {rounded_hours_text(view.total_hours)}"[
            :256
        ]
        embed.add_field(name=name, value=body or "no modules", inline=False)
        budget -= len(name) + len(body)
        shown += 1
    footer = "Start a plan with /plan start"
    if shown < len(views):
        footer = f"{len(views) - shown} more not shown (/plan export shows one) · " + footer
    embed.set_footer(text=footer)
    return embed


def imported_text(result: Imported, total_hours: float, modules: int) -> str:
    verb = "Added" if result.created else "Updated"
    lines = [
        f"{verb} **{safe(result.course.title)}** (`{result.course.key}`): "
        f"{plural(modules, 'module')}, {rounded_hours_text(total_hours)} in all "
        f"({result.added} new, {result.updated} changed)."
    ]
    for removed in result.removed:
        lines.append(
            f"Removed **{safe(removed.title)}** (no longer in the file; "
            f"{plural(removed.finished_by, 'member')} had finished it)."
        )
    return "\n".join(lines)[:2000]


def plans_pages(
    standings: Sequence[Standing], courses: Sequence[CourseView]
) -> list[discord.Embed]:
    """Per course, per module (the next one each member has to do): who is there, on track,
    behind or away, and their projected finish."""
    by_course: dict[int, dict[str | None, list[Standing]]] = defaultdict(lambda: defaultdict(list))
    for standing in standings:
        by_course[standing.course_id][standing.next_module].append(standing)
    lines: list[str] = []
    for view in courses:
        found = by_course.get(view.course.id)
        if not found:
            continue
        everyone = [s for group in found.values() for s in group]
        on_track = sum(1 for s in everyone if s.assessment.on_track and not s.assessment.away)
        lines.append(
            f"__**{safe(view.course.title)}**__ · {plural(len(everyone), 'member')}, "
            f"{on_track} on track"
        )
        for title in [m.title for m in view.modules] + [None]:
            members = found.get(title)
            if not members:
                continue
            lines.append(f"**{safe(title) if title else 'Finished'}**")
            for s in sorted(members, key=lambda s: s.assessment.ahead_hours):
                a = s.assessment
                finish = f" · projected {day_text(a.projected)}" if a.projected else ""
                lines.append(f"<@{s.user_id}> {verdict(a)} · {position_text(a)}{finish}")
    if not lines:
        lines = ["Nobody has a plan yet. Members start one with `/plan start`."]
    pages: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and (
            len(current) >= PAGE_LINES
            or sum(map(len, current)) + len(current) + len(line) > PAGE_CHARS
        ):
            pages.append("\n".join(current))
            current = []
        current.append(line[:1000])
    pages.append("\n".join(current))
    embeds = []
    for index, body in enumerate(pages):
        embed = discord.Embed(
            title="Course plans", description=body, colour=discord.Colour.blurple()
        )
        if len(pages) > 1:
            embed.set_footer(text=f"Page {index + 1} of {len(pages)}")
        embeds.append(embed)
    return embeds


class PlanWeekButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:plan-week(?::(?P<guild_id>[0-9]{1,20}))?",
):
    """Adds the presser's share of their plan for this week as goals (once a week)."""

    def __init__(self, guild_id: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Plan my week",
                emoji="🗓️",
                style=discord.ButtonStyle.secondary,
                custom_id=guild_custom_id(PLAN_WEEK_BUTTON_ID, guild_id),
            )
        )
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PlanWeekButton:
        return cls(guild_from(match))

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        try:
            guild_id = check_guild(interaction, self.guild_id)
            result = await interaction.client.services.plans.add_week_goals(
                guild_id, interaction.user.id
            )
            await interaction.response.send_message(week_added_text(result), ephemeral=True)
        except Exception as error:
            await handle_error(interaction, error)


def plan_week_view(guild_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PlanWeekButton(guild_id))
    return view
