"""What each kind of scheduled post says: plain data (text, card fields, buttons, chart bytes).

Nothing here imports discord: a publisher on the Discord side turns a ``Post`` into a message.
Features that arrive later plug in through providers: a review-pairing hook, counters for the
weekly summary (reviews done, FAQ questions answered) and members' pending reviews for nudges.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.charts import GroupChartData, GroupWeek, render_group_chart
from bot.domain.weeks import StudyWeek, week_containing
from bot.formatting import plural, timestamp
from bot.services.goals import zone_named
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository
from db.repositories.schedules import ZonedSchedule
from db.repositories.summaries import StudySummaryRepository

# Buttons a post can carry; the Discord side maps them to its persistent views.
ADD_GOAL = "add-goal"
CHECK_IN = "check-in"
PLAN_WEEK = "plan-week"

CHART_FILE = "summary.png"
CHART_WEEKS = 8
TOP_STREAKS = 3
MAX_LISTED_GOALS = 5
ROLE_MENTION = re.compile(r"<@&([0-9]{15,21})>")
# A summary fired early in a week (e.g. Monday morning) is about the week that just ended.
SUMMARY_LOOKBACK = timedelta(days=2)

BLURPLE = 0x5865F2
GREEN = 0x57F287
GOLD = 0xF0B232


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True)
class Card:
    """An embed, as data. ``image`` names an attached file to show inside the card."""

    title: str
    description: str = ""
    fields: tuple[Field, ...] = ()
    footer: str | None = None
    image: str | None = None
    colour: int = BLURPLE


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Post:
    """One message. ``role_ids`` are roles the text names that may ping (if the bot may
    mention them); ``user_ids`` are members it must ping. Nobody else is ever pinged."""

    content: str | None = None
    card: Card | None = None
    buttons: tuple[str, ...] = ()
    files: tuple[Attachment, ...] = ()
    role_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()

    def marker(self) -> tuple[str, str]:
        """What identifies this post among a channel's messages, whenever it is rebuilt: its
        card's title, else its first line (a late note is added below it, never in it)."""
        if self.card is not None:
            return "title", self.card.title[:256]
        return "line", (self.content or "")[:2000].split("\n", 1)[0]


@dataclass(frozen=True)
class Pairing:
    """What a review-pairing hook reports: a summary and the members it assigned."""

    text: str
    fields: tuple[Field, ...] = ()
    user_ids: tuple[int, ...] = ()


# (guild_id, when the pairing schedule fired) → what was paired.
PairingHook = Callable[[int, datetime], Awaitable[Pairing]]


# (guild_id, week start UTC, week end UTC) → a count for the weekly summary.
Counter = Callable[[int, datetime, datetime], Awaitable[int]]
# (guild_id, user ids) → each member's pending reviews (short descriptions).
PendingReviews = Callable[[int, Sequence[int]], Awaitable[dict[int, list[str]]]]
# (guild_id, user ids) → a line per member for their nudge (e.g. how their plan is going).
MemberNotes = Callable[[int, Sequence[int]], Awaitable[dict[int, str]]]
# (guild_id, user ids) → the members among them who are away (they get no nudges).
AwayMembers = Callable[[int, Sequence[int]], Awaitable[set[int]]]
# (guild_id, week) → per member, the keys of the weeks they were away.
GuildAwayWeeks = Callable[[int, StudyWeek], Awaitable[dict[int, set[date]]]]
# (guild_id) → a figure for the weekly summary, or None to leave it out.
Figure = Callable[[int], Awaitable[str | None]]
# (guild_id) → whether the goal prompt offers *Plan my week*.
PlanOffer = Callable[[int], Awaitable[bool]]


async def _zero(_guild_id: int, _start: datetime, _end: datetime) -> int:
    return 0


async def nothing_to_pair(_guild_id: int, _at: datetime) -> Pairing:
    return Pairing("Nothing to pair this round: there are no peer-review submissions yet.")


def late_note(fire_at: datetime, coalesced: int) -> str:
    note = f"-# ⏰ Posted late: this was due {timestamp(fire_at)} ({timestamp(fire_at, 'R')})."
    if coalesced:
        were = "s were" if coalesced > 1 else " was"
        note += f" {coalesced} earlier post{were} skipped while Cohort was offline."
    return note


def _hours(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


class AnnouncementService:
    def __init__(
        self,
        summaries: StudySummaryRepository,
        checkins: CheckInsRepository,
        goals: GoalsRepository,
    ) -> None:
        self._summaries = summaries
        self._checkins = checkins
        self._goals = goals
        self._pairing: PairingHook = nothing_to_pair
        self._pending_reviews: PendingReviews | None = None
        self._member_notes: MemberNotes | None = None
        self._away: AwayMembers | None = None
        self._away_weeks: GuildAwayWeeks | None = None
        self._plan_offer: PlanOffer | None = None
        self.figures: dict[str, Figure] = {}
        self.counters: dict[str, Counter] = {
            "Reviews done": _zero,
            "FAQ questions answered": _zero,
        }

    # -- providers ---------------------------------------------------------------------------

    def register_pairing(self, hook: PairingHook) -> None:
        """The peer-review feature pairs the round when a review-pairing schedule fires."""
        self._pairing = hook

    def register_counter(self, label: str, counter: Counter) -> None:
        """A figure for the weekly summary, e.g. "Reviews done"."""
        self.counters[label] = counter

    def register_pending_reviews(self, provider: PendingReviews) -> None:
        self._pending_reviews = provider

    def register_member_notes(self, provider: MemberNotes) -> None:
        self._member_notes = provider

    def register_away(self, provider: AwayMembers) -> None:
        self._away = provider

    def register_away_weeks(self, provider: GuildAwayWeeks) -> None:
        """Weeks members were away keep their streaks in the summary, as in /progress."""
        self._away_weeks = provider

    def register_figure(self, label: str, figure: Figure) -> None:
        """A worded figure for the weekly summary, e.g. "On track with their plan"."""
        self.figures[label] = figure

    def register_plan_offer(self, offer: PlanOffer) -> None:
        self._plan_offer = offer

    # -- posts -------------------------------------------------------------------------------

    async def build(
        self,
        zoned: ZonedSchedule,
        fire_at: datetime,
        *,
        late: bool = False,
        coalesced: int = 0,
        group_name: str = "Study group",
    ) -> Post:
        """The post of one occurrence (``late`` adds a visible note of the intended time)."""
        schedule = zoned.schedule
        week = week_containing(fire_at, zone_named(zoned.timezone), zoned.week_start)
        if schedule.kind == "reminder":
            post = self.reminder(schedule.message or "")
        elif schedule.kind == "goal-prompt":
            post = self.goal_prompt(week)
            if self._plan_offer is not None and await self._plan_offer(schedule.guild_id):
                post = with_plan_offer(post)
        elif schedule.kind == "checkin-prompt":
            post = self.checkin_prompt(week)
        elif schedule.kind == "weekly-summary":
            if fire_at - week.start_utc < SUMMARY_LOOKBACK:
                week = week.previous()
            post = await self.weekly_summary(schedule.guild_id, week, group_name)
        elif schedule.kind == "review-pairing":
            post = await self.review_pairing(schedule.guild_id, fire_at, week)
        else:
            raise ValueError(f"unknown schedule kind {schedule.kind!r}")
        if late:
            note = late_note(fire_at, coalesced)
            content = f"{post.content}\n\n{note}" if post.content else note
            post = Post(content, post.card, post.buttons, post.files, post.role_ids, post.user_ids)
        return post

    @staticmethod
    def reminder(message: str) -> Post:
        roles = tuple(dict.fromkeys(int(m) for m in ROLE_MENTION.findall(message)))
        return Post(content=message, role_ids=roles)

    @staticmethod
    def goal_prompt(week: StudyWeek) -> Post:
        return Post(
            card=Card(
                title=f"{week.label()}: set your goals",
                description=(
                    "What will you get done this week? Press **Add goal** to add one "
                    "(up to 10 a week), or use `/goal add`.\n\n"
                    "Unfinished goals from last week? `/goal carry` copies them over."
                ),
                colour=BLURPLE,
            ),
            buttons=(ADD_GOAL,),
        )

    @staticmethod
    def checkin_prompt(week: StudyWeek) -> Post:
        return Post(
            card=Card(
                title="Time to check in",
                description=(
                    f"How is the {week.label().lower()} going? Press **Check in** to log your "
                    "hours, what you did, what's next and any blockers — or use `/checkin`."
                ),
                footer="Turn DM reminders on or off with /me reminders.",
                colour=GREEN,
            ),
            buttons=(CHECK_IN,),
        )

    async def weekly_summary(self, guild_id: int, week: StudyWeek, group_name: str) -> Post:
        """The week in numbers and a chart of the last weeks. Only the longest streaks are
        named; nobody is named for falling behind."""
        first, last = week.start_date, week.end_date
        hours = await self._summaries.member_hours(guild_id, first, last)
        goal_weeks = await self._goals.guild_weekly(guild_id, first, last)
        goals_set = sum(w.total for w in goal_weeks)
        goals_done = sum(w.done for w in goal_weeks)
        away = await self._away_weeks(guild_id, week) if self._away_weeks else None
        streaks = await self._summaries.top_streaks(guild_id, first, last, TOP_STREAKS, away)
        counts = {
            label: await counter(guild_id, week.start_utc, week.end_utc)
            for label, counter in self.counters.items()
        }
        chart = await self._chart(guild_id, week, group_name)

        total = sum(hours.values())
        fields = [
            Field("Checked in", plural(len(hours), "member")),
            Field(
                "Hours",
                f"{_hours(total)} h in total · median {_hours(statistics.median(hours.values()))} h"
                if hours
                else "none logged yet",
            ),
            Field("Goals", f"{goals_done} of {goals_set} done" if goals_set else "none set"),
        ]
        named = [(user_id, n) for user_id, n in streaks if n >= 2]
        if named:
            fields.append(
                Field(
                    "Longest streaks",
                    "\n".join(f"<@{user_id}> · {n} weeks in a row" for user_id, n in named),
                    inline=False,
                )
            )
        fields += [Field(label, str(count)) for label, count in counts.items()]
        for label, figure in self.figures.items():
            worded = await figure(guild_id)
            if worded is not None:
                fields.append(Field(label, worded))
        return Post(
            card=Card(
                title=f"{week.label()} in numbers",
                description="Here's how the group did this week. Thanks for showing up!",
                fields=tuple(fields),
                image=CHART_FILE,
                colour=GOLD,
            ),
            files=(Attachment(CHART_FILE, chart),),
        )

    async def review_pairing(self, guild_id: int, fire_at: datetime, week: StudyWeek) -> Post:
        result = await self._pairing(guild_id, fire_at)
        return Post(
            card=Card(
                title=f"Peer review: {week.label()}",
                description=result.text[:4000],
                fields=result.fields[:25],
                colour=BLURPLE,
            ),
            user_ids=result.user_ids,
        )

    # -- nudges ------------------------------------------------------------------------------

    async def nudge_texts(
        self,
        guild_id: int,
        week: StudyWeek,
        user_ids: Sequence[int],
        *,
        group_name: str,
        prompt_link: str | None,
    ) -> dict[int, str]:
        """The DM for each member who has not checked in this week (others get none)."""
        first, last = week.start_date, week.end_date
        done = await self._summaries.checked_in(guild_id, first, last, user_ids)
        waiting = [user_id for user_id in user_ids if user_id not in done]
        if self._away is not None:
            away = await self._away(guild_id, waiting)
            waiting = [user_id for user_id in waiting if user_id not in away]
        goals = await self._summaries.open_goals(guild_id, first, last, waiting)
        reviews = await self._pending_reviews(guild_id, waiting) if self._pending_reviews else {}
        notes = await self._member_notes(guild_id, waiting) if self._member_notes else {}
        texts = {}
        for user_id in waiting:
            lines = [
                f"Hi! A reminder from **{group_name}**: you haven't checked in for the "
                f"{week.label().lower()} yet."
            ]
            lines += _listed("Your open goals", goals.get(user_id, []))
            lines += _listed("Reviews you owe", reviews.get(user_id, []))
            if user_id in notes:
                lines.append(f"\n{notes[user_id]}")
            where = f" or press **Check in** here: {prompt_link}" if prompt_link else ""
            lines.append(f"\nUse `/checkin` in the server{where}.")
            lines.append("-# You get these because you turned on `/me reminders`.")
            texts[user_id] = "\n".join(lines)[:2000]
        return texts

    async def _chart(self, guild_id: int, week: StudyWeek, group_name: str) -> bytes:
        oldest = week
        for _ in range(CHART_WEEKS - 1):
            oldest = oldest.previous()
        per_week = {
            w.week_key: w
            for w in await self._checkins.guild_weekly(guild_id, oldest.start_date, week.end_date)
        }
        weeks = []
        current = oldest
        for _ in range(CHART_WEEKS):
            found = per_week.get(current.start_date)
            weeks.append(
                GroupWeek(
                    week_start=current.start_date,
                    checked_in=found.members if found else 0,
                    hours=found.hours if found else None,
                )
            )
            current = current.next()
        data = GroupChartData(group_name=group_name, weeks=tuple(weeks), hours_kind="total")
        # Rendering takes a while: keep it off the event loop.
        return await asyncio.to_thread(render_group_chart, data)


def with_plan_offer(post: Post) -> Post:
    """The goal prompt with a *Plan my week* button: one press adds the member's share of
    their course plan for the week as goals."""
    assert post.card is not None
    card = Card(
        post.card.title,
        post.card.description
        + "\n\nOn a course plan? **Plan my week** adds this week's share of it as goals.",
        post.card.fields,
        post.card.footer,
        post.card.image,
        post.card.colour,
    )
    return Post(post.content, card, (*post.buttons, PLAN_WEEK), post.files, post.role_ids,
                post.user_ids)


def _listed(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    shown = [f"• {item}" for item in items[:MAX_LISTED_GOALS]]
    if len(items) > MAX_LISTED_GOALS:
        shown.append(f"• … and {len(items) - MAX_LISTED_GOALS} more")
    return [f"\n{title}:", *shown]
