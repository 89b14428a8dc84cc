"""Course plans: courses in and out, a member's plan, its pace and projection, the week's share.

The maths is in ``bot.domain.plans``; this module gathers what it needs (modules, finished
modules, hours checked in per week, away periods) and keeps the rules of who may touch what:
a member changes only their own plan, and only with modules of their plan's course in this guild.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

from bot.clock import Clock
from bot.domain import plans as pace
from bot.domain.courses import CourseSpec, ModuleSpec, read_course, write_course
from bot.domain.weeks import StudyWeek
from bot.errors import InvalidInput, NotFound
from bot.formatting import plural, rounded_hours_text, weeks_text
from bot.plan_chart import PlanChartData, render_plan_chart
from bot.services.goals import study_week
from db.repositories.goals import GoalsRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.plans import (
    Away,
    Course,
    CourseModule,
    Imported,
    Plan,
    PlansRepository,
)

PACKS = {"meta-back-end": "plan_meta_back_end.json"}
NO_PLAN = "You have no plan yet — start one with `/plan start`."
NO_COURSES = "This server has no courses yet — a moderator can add one with `/plan import`."
NOT_YOUR_MODULE = "That module is not part of your plan's course — pick one from the list."
# Enough finished weeks before the pace window for every week-start a guild may switch to.
# Finished weeks pace kept looks at when nobody was away.
_RECENT_WEEKS = pace.PACE_WEEKS
# Members away lately: pace kept skips their away weeks, so it may look back this far.
_AWAY_LOOKBACK = timedelta(weeks=pace.PACE_WEEKS + pace.AWAY_WEEKS_MAX + 1)
CHOICES_MAX = 25


@dataclass(frozen=True)
class CourseView:
    course: Course
    modules: tuple[CourseModule, ...]

    @property
    def total_hours(self) -> float:
        return sum(m.hours for m in self.modules)


@dataclass(frozen=True)
class PlanView:
    """A member's plan as `/plan show` tells it."""

    user_id: int
    plan: Plan
    course: CourseView
    finished: dict[int, datetime]
    assessment: pace.Assessment
    today: date
    week: StudyWeek
    away_until: datetime | None

    @property
    def left(self) -> list[CourseModule]:
        return [m for m in self.course.modules if m.id not in self.finished]

    @property
    def done(self) -> list[CourseModule]:
        return [m for m in self.course.modules if m.id in self.finished]


@dataclass(frozen=True)
class WeekPlan:
    view: PlanView
    hours: float
    shares: tuple[pace.Share, ...]
    added_before: bool


@dataclass(frozen=True)
class WeekAdded:
    plan: WeekPlan
    added: tuple[str, ...]
    skipped: int  # goals that did not fit in the week's 10


@dataclass(frozen=True)
class Standing:
    """One member's place in their plan, for /group plans and the weekly summary."""

    user_id: int
    course_id: int
    assessment: pace.Assessment
    next_module: str | None


def _past_weeks(week: StudyWeek) -> list[StudyWeek]:
    """The finished study weeks pace kept may look at, newest first."""
    weeks = []
    for _ in range(_AWAY_LOOKBACK // timedelta(weeks=1)):
        week = week.previous()
        weeks.append(week)
    return weeks


def _spans(periods: Sequence[Away]) -> list[pace.AwaySpan]:
    return [pace.AwaySpan(p.starts_at, p.ends_at) for p in periods]


class PlanService:
    def __init__(
        self,
        plans: PlansRepository,
        settings: GuildSettingsRepository,
        goals: GoalsRepository,
        clock: Clock,
    ) -> None:
        self._plans = plans
        self._settings = settings
        self._goals = goals
        self._clock = clock

    # -- courses -----------------------------------------------------------------------------

    async def import_file(self, guild_id: int, data: bytes) -> Imported:
        return await self._import(guild_id, read_course(data))

    async def import_pack(self, guild_id: int, pack: str) -> Imported:
        filename = PACKS.get(pack)
        if filename is None:
            raise InvalidInput(f"There is no course pack called {pack!r}.")
        raw = resources.files("bot.data").joinpath(filename).read_bytes()
        return await self._import(guild_id, read_course(raw))

    async def _import(self, guild_id: int, spec: CourseSpec) -> Imported:
        return await self._plans.import_course(guild_id, spec, self._clock.now())

    async def courses(self, guild_id: int) -> list[CourseView]:
        found = await self._plans.courses(guild_id)
        modules = await self._plans.modules([c.id for c in found])
        return [CourseView(c, tuple(modules[c.id])) for c in found]

    async def course_choices(self, guild_id: int, typed: str) -> list[Course]:
        needle = typed.strip().casefold()
        return [
            c
            for c in await self._plans.courses(guild_id)
            if needle in c.title.casefold() or needle in c.key
        ][:CHOICES_MAX]

    async def find_course(self, guild_id: int, text: str) -> CourseView:
        """A course by key (what autocomplete sends) or by its title as typed."""
        wanted = text.strip().casefold()
        for view in await self.courses(guild_id):
            if wanted in (view.course.key, view.course.title.casefold()):
                return view
        raise NotFound(
            "There is no such course in this server — pick one from the list "
            "(`/plan courses` shows them)."
        )

    async def export(self, guild_id: int, text: str) -> tuple[Course, bytes]:
        view = await self.find_course(guild_id, text)
        spec = CourseSpec(
            view.course.key,
            view.course.title,
            view.course.source,
            tuple(ModuleSpec(m.title, m.hours, m.url) for m in view.modules),
        )
        return view.course, write_course(spec)

    # -- a member's plan ---------------------------------------------------------------------

    async def start(
        self,
        guild_id: int,
        user_id: int,
        course: str,
        target: str | None,
        weekly_hours: float | None,
    ) -> PlanView:
        """Start (or restart) a plan; finished modules of the course still count."""
        view = await self.find_course(guild_id, course)
        now = self._clock.now()
        week = await self._week(guild_id, now)
        today = now.astimezone(week.tz).date()
        finished = {f.module_id for f in await self._plans.finished(guild_id, user_id)}
        left = sum(m.hours for m in view.modules if m.id not in finished)
        if left <= 0:
            raise InvalidInput(
                "You have finished every module of this course already — nothing left to plan."
            )
        target_day = pace.parse_target(target, today) if target else None
        target_day, _ = pace.plan_terms(left, today, target_day, weekly_hours)
        plan = Plan(guild_id, user_id, view.course.id, now, today, target_day, weekly_hours)
        await self._plans.save_plan(plan, now)
        return await self.show(guild_id, user_id)

    async def show(self, guild_id: int, user_id: int) -> PlanView:
        plan = await self._plans.plan_of(guild_id, user_id)
        if plan is None:
            raise NotFound(NO_PLAN)
        return await self._view(plan)

    async def finish(self, guild_id: int, user_id: int, module_id: int) -> tuple[PlanView, bool]:
        await self._own_module(guild_id, user_id, module_id)
        newly = await self._plans.finish(guild_id, user_id, module_id, self._clock.now())
        return await self.show(guild_id, user_id), newly

    async def undo(self, guild_id: int, user_id: int, module_id: int) -> tuple[PlanView, bool]:
        await self._own_module(guild_id, user_id, module_id)
        changed = await self._plans.unfinish(guild_id, user_id, module_id)
        return await self.show(guild_id, user_id), changed

    async def module_choices(
        self, guild_id: int, user_id: int, typed: str, *, finished: bool
    ) -> list[CourseModule]:
        plan = await self._plans.plan_of(guild_id, user_id)
        if plan is None:
            return []
        modules = (await self._plans.modules([plan.course_id]))[plan.course_id]
        done = {f.module_id for f in await self._plans.finished(guild_id, user_id)}
        needle = typed.strip().casefold()
        return [m for m in modules if (m.id in done) == finished and needle in m.title.casefold()][
            :CHOICES_MAX
        ]

    async def chart(self, view: PlanView, name: str) -> bytes:
        data = PlanChartData(
            name=name,
            course=view.course.course.title,
            start=view.plan.start_day,
            target=view.assessment.target,
            today=view.today,
            total_hours=view.assessment.total_hours,
            finished=tuple(
                sorted(
                    (view.finished[m.id].astimezone(view.week.tz).date(), m.hours)
                    for m in view.done
                )
            ),
            projected=view.assessment.projected,
        )
        # Rendering takes a while: keep it off the event loop.
        return await asyncio.to_thread(render_plan_chart, data)

    # -- the week's share --------------------------------------------------------------------

    async def week(self, guild_id: int, user_id: int) -> WeekPlan:
        view = await self.show(guild_id, user_id)
        return self._week_plan(
            view, await self._plans.plan_week_added(guild_id, user_id, view.week.key)
        )

    @staticmethod
    def _week_plan(view: PlanView, added_before: bool) -> WeekPlan:
        hours = pace.week_hours(view.assessment)
        left = [pace.Module(m.id, m.title, m.hours) for m in view.left]
        return WeekPlan(view, hours, tuple(pace.week_share(left, hours)), added_before)

    async def add_week_goals(self, guild_id: int, user_id: int) -> WeekAdded:
        """The week's share as goals, once per week (a second press adds nothing)."""
        view = await self.show(guild_id, user_id)
        plan = self._week_plan(view, False)
        if not plan.shares:
            return WeekAdded(plan, (), 0)
        now = self._clock.now()
        week_key = view.week.key
        if not await self._plans.claim_plan_week(guild_id, user_id, week_key, now):
            return WeekAdded(self._week_plan(view, True), (), 0)
        added: list[str] = []
        skipped = 0
        try:
            for share in plan.shares:
                text = f"Plan: {share.module.title}"[:200]
                goal = await self._goals.add(guild_id, user_id, week_key, text, share.hours, now)
                if goal is None:
                    skipped += 1
                else:
                    added.append(text)
        except BaseException:
            if not added:  # nothing written: let a later press try again
                await self._plans.release_plan_week(guild_id, user_id, week_key)
            raise
        return WeekAdded(plan, tuple(added), skipped)

    # -- the group ---------------------------------------------------------------------------

    async def standings(self, guild_id: int) -> list[Standing]:
        """Every member's plan assessed today (a few queries, whatever the group's size)."""
        now = self._clock.now()
        week = await self._week(guild_id, now)

        async def away_and_hours() -> tuple[dict[int, list[Away]], dict[int, dict[date, float]]]:
            away = await self._plans.away_periods(guild_id)
            return away, await self._hours(guild_id, week, None, away)

        # Plans and check-in hours are read side by side (separate connections).
        group, (away, hours) = await asyncio.gather(
            self._plans.group_plans(guild_id), away_and_hours()
        )
        if not group:
            return []
        course_ids = sorted({g.plan.course_id for g in group})
        modules = await self._plans.modules(course_ids)
        domain = {
            cid: [pace.Module(m.id, m.title, m.hours) for m in ms] for cid, ms in modules.items()
        }
        past = _past_weeks(week)
        today = now.astimezone(week.tz).date()
        found = []
        for g in group:
            user_id = g.plan.user_id
            assessment = self._assess(
                g.plan,
                domain[g.plan.course_id],
                g.done_ids,
                week,
                past,
                now,
                today,
                away.get(user_id, []),
                hours.get(user_id, {}),
            )
            following = next(
                (m.title for m in modules[g.plan.course_id] if m.id not in g.done_ids), None
            )
            found.append(Standing(user_id, g.plan.course_id, assessment, following))
        return found

    async def offers_plans(self, guild_id: int) -> bool:
        """Whether the guild has a course to plan through (the goal prompt then offers the
        week's share)."""
        return bool(await self._plans.courses(guild_id))

    async def on_track_figure(self, guild_id: int) -> str | None:
        """For the weekly summary: how many members are on track, naming nobody."""
        on_track, active = await self.on_track_count(guild_id)
        if not active:
            return None
        return f"{on_track} of {plural(active, 'member')} on plans"

    async def on_track_count(self, guild_id: int) -> tuple[int, int]:
        """(members on track, members with a plan who are not away and not finished)."""
        active = [
            s.assessment
            for s in await self.standings(guild_id)
            if not s.assessment.away and not s.assessment.finished
        ]
        return sum(1 for a in active if a.on_track), len(active)

    async def nudge_notes(self, guild_id: int, user_ids: Sequence[int]) -> dict[int, str]:
        """A line per member with a plan: how far ahead or behind they are."""
        wanted = set(user_ids)
        return {
            s.user_id: standing_line(s.assessment)
            for s in await self.standings(guild_id)
            if s.user_id in wanted and not s.assessment.finished
        }

    # -- internals ---------------------------------------------------------------------------

    async def _week(self, guild_id: int, now: datetime) -> StudyWeek:
        return study_week(await self._settings.get(guild_id), now)

    async def _own_module(self, guild_id: int, user_id: int, module_id: int) -> CourseModule:
        plan = await self._plans.plan_of(guild_id, user_id)
        if plan is None:
            raise NotFound(NO_PLAN)
        modules = (await self._plans.modules([plan.course_id]))[plan.course_id]
        for module in modules:
            if module.id == module_id:
                return module
        raise NotFound(NOT_YOUR_MODULE)

    async def _view(self, plan: Plan) -> PlanView:
        now = self._clock.now()
        week = await self._week(plan.guild_id, now)
        course = await self._plans.course(plan.guild_id, plan.course_id)
        assert course is not None  # the plan's foreign key keeps its course
        modules = tuple((await self._plans.modules([course.id]))[course.id])
        finished = {
            f.module_id: f.finished_at
            for f in await self._plans.finished(plan.guild_id, plan.user_id)
        }
        periods = (await self._plans.away_periods(plan.guild_id, [plan.user_id])).get(
            plan.user_id, []
        )
        hours = (await self._hours(plan.guild_id, week, plan.user_id, {plan.user_id: periods})).get(
            plan.user_id, {}
        )
        domain = [pace.Module(m.id, m.title, m.hours) for m in modules]
        assessment = self._assess(
            plan,
            domain,
            set(finished),
            week,
            _past_weeks(week),
            now,
            now.astimezone(week.tz).date(),
            periods,
            hours,
        )
        until = next((p.ends_at for p in periods if p.starts_at <= now < p.ends_at), None)
        finished = {k: v for k, v in finished.items() if any(m.id == k for m in modules)}
        return PlanView(
            plan.user_id,
            plan,
            CourseView(course, modules),
            finished,
            assessment,
            now.astimezone(week.tz).date(),
            week,
            until,
        )

    async def _hours(
        self,
        guild_id: int,
        week: StudyWeek,
        user_id: int | None,
        away: dict[int, list[Away]],
    ) -> dict[int, dict[date, float]]:
        """Hours checked in per member (or one member) and study week (keys: week starts), as
        far back as pace kept may look: the last few weeks for everyone, further for members
        whose recent weeks include time away."""
        past = _past_weeks(week)
        recent = [(w.key, w.end_date) for w in [week, *past[:_RECENT_WEEKS]]]
        horizon = week.start_utc - _AWAY_LOOKBACK
        stepped_away = [
            member
            for member, periods in away.items()
            if (user_id is None or member == user_id) and any(a.ends_at > horizon for a in periods)
        ]
        further = [(w.key, w.end_date) for w in [week, *past]]
        hours, longer = await asyncio.gather(
            self._plans.hours_per_week(guild_id, recent, None if user_id is None else [user_id]),
            self._plans.hours_per_week(guild_id, further, stepped_away),
        )
        hours.update(longer)
        return hours

    @staticmethod
    def _assess(
        plan: Plan,
        modules: Sequence[pace.Module],
        done: set[int] | frozenset[int],
        week: StudyWeek,
        past: Sequence[StudyWeek],
        now: datetime,
        today: date,
        periods: Sequence[Away],
        hours: dict[date, float],
    ) -> pace.Assessment:
        spans = _spans(periods) if periods else []
        plan_week = week.key - timedelta(weeks=((week.key - plan.start_day).days + 6) // 7)
        away_keys = (
            pace.away_weeks(spans, [w for w in past if w.key >= plan_week]) if spans else set()
        )
        weeks = pace.pace_weeks(plan_week, week.key, away_keys)
        return pace.assess(
            modules,
            done,
            start=plan.start_day,
            target=plan.target_day,
            today=today,
            shift=pace.away_shift(spans, plan.started_at) if spans else timedelta(0),
            kept=pace.pace_kept(hours, weeks),
            away=any(s.start <= now < s.end for s in spans),
        )


def gap_text(a: pace.Assessment) -> str:
    """How far ahead or behind the plan's line, without the side: "4.3 h (0.7 weeks)"."""
    return f"{rounded_hours_text(abs(a.ahead_hours))} ({weeks_text(a.ahead_weeks)})"


def standing_line(a: pace.Assessment) -> str:
    """ "4 h (0.7 weeks) ahead of your plan" and the like, for nudges and /plan show."""
    if a.finished:
        return "You have finished every module of your plan. 🎉"
    if a.away:
        return "You're away: your plan's target moves with the time you're away."
    if abs(a.ahead_hours) < 0.5:
        where = "right where your plan expects you"
    else:
        where = f"{gap_text(a)} {'ahead of' if a.ahead_hours > 0 else 'behind'} your plan"
    verdict = "on track" if a.on_track else "behind pace"
    return f"Course plan: {where} · {verdict} (need {rounded_hours_text(a.pace_needed)}/week)."
