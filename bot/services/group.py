"""Use-cases behind /group: the moderators' overview of the group and its CSV export.

Figures come from goals and check-ins (aggregated per member and week in SQL); peer review and
the FAQ contribute through providers registered by the composition root (reviews owed and
overdue, per-week review counts, the FAQ queue's size). Without a provider the figure is
unknown (None), not zero.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.clock import Clock
from bot.domain.drifting import (
    LOOKBACK_WEEKS,
    QUIET_WEEKS,
    Drifter,
    GoalWeek,
    MemberHistory,
    drift_reasons,
)
from bot.domain.drifting import drifting as find_drifting
from bot.domain.weeks import StudyWeek, week_of
from bot.services.goals import study_week
from db.repositories.group import GroupRepository, MemberWeek, RecentActivity
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.lifecycle import LifecycleRepository

# Weeks (this one included) whose activity makes someone part of the group for the check-in rate.
ROSTER_WEEKS = 4
# Weeks read for the overview: the quiet weeks and the lookback before them.
OVERVIEW_WEEKS = QUIET_WEEKS + LOOKBACK_WEEKS
# Members per page of the export (each page is two grouped queries).
EXPORT_PAGE = 500
EXPORT_COLUMNS = (
    "week_start",
    "member_id",
    "goals_set",
    "goals_done",
    "hours",
    "check_ins",
    "reviews_given",
    "reviews_received",
)
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ReviewDebt:
    owed: int
    overdue: int


@dataclass(frozen=True)
class ReviewTally:
    given: int = 0
    received: int = 0


# guild → member → reviews they owe now (and how many of those are overdue).
ReviewDebts = Callable[[int], Awaitable[Mapping[int, ReviewDebt]]]
# (guild, after member id or None, limit) → the next members by id who took part in peer review.
ReviewMembers = Callable[[int, int | None, int], Awaitable[Sequence[int]]]
# guild → size of the moderators' FAQ queue.
FaqQueueSize = Callable[[int], Awaitable[int]]
# (guild_id) → members away right now (they are counted, not listed as drifting).
AwayMembers = Callable[[int], Awaitable[set[int]]]
# (guild, members, first week key or None, last day) → (member, week key) → reviews given and
# received, week keys as the feature stores them (local start dates of study weeks).
ReviewTallies = Callable[
    [int, Sequence[int], date | None, date], Awaitable[Mapping[tuple[int, date], ReviewTally]]
]


@dataclass(frozen=True)
class WeekFigures:
    week: StudyWeek
    active: int
    checked_in: int
    median_hours: float | None
    goals_set: int
    goals_done: int


@dataclass(frozen=True)
class Overview:
    this_week: WeekFigures
    last_week: WeekFigures
    # Members active in the last ROSTER_WEEKS weeks who have not left.
    roster: int
    reviews_owed: int | None
    reviews_overdue: int | None
    faq_queue: int | None
    drifting: tuple[Drifter, ...]
    left: int
    away: int | None = None

    @property
    def checkin_rate(self) -> float | None:
        """Share of the roster that checked in this week."""
        return self.this_week.checked_in / self.roster if self.roster else None


class GroupService:
    def __init__(
        self,
        group: GroupRepository,
        settings: GuildSettingsRepository,
        lifecycle: LifecycleRepository,
        clock: Clock,
    ) -> None:
        self._group = group
        self._settings = settings
        self._lifecycle = lifecycle
        self._clock = clock
        self._review_debts: ReviewDebts | None = None
        self._review_tallies: ReviewTallies | None = None
        self._review_members: ReviewMembers | None = None
        self._faq_queue: FaqQueueSize | None = None
        self._away: AwayMembers | None = None

    # -- providers ---------------------------------------------------------------------------

    def register_review_debts(self, provider: ReviewDebts) -> None:
        self._review_debts = provider

    def register_review_tallies(
        self, provider: ReviewTallies, members: ReviewMembers | None = None
    ) -> None:
        """Reviews given and received per week for the export; `members` lists those who
        took part in peer review, so members with no goals or check-ins still get rows."""
        self._review_tallies = provider
        self._review_members = members

    def register_faq_queue(self, provider: FaqQueueSize) -> None:
        self._faq_queue = provider

    def register_away(self, provider: AwayMembers) -> None:
        self._away = provider

    # -- overview ----------------------------------------------------------------------------

    async def current_week(self, guild_id: int) -> StudyWeek:
        return study_week(await self._settings.get(guild_id), self._clock.now())

    async def overview(self, guild_id: int) -> Overview:
        current = await self.current_week(guild_id)
        week_starts = [current.key - ago * _WEEK for ago in range(OVERVIEW_WEEKS)]
        members = await self._group.recent_activity(guild_id, week_starts, current.end_date)
        departed = await self._lifecycle.departed_members(guild_id)
        debts = await self._review_debts(guild_id) if self._review_debts else None
        faq_queue = await self._faq_queue(guild_id) if self._faq_queue else None
        away = await self._away(guild_id) if self._away else None

        staying = {m.user_id: m for m in members if m.user_id not in departed}
        owing = debts or {}
        histories = [
            _history(user_id, staying.get(user_id), owing.get(user_id))
            for user_id in sorted(staying.keys() | (owing.keys() - departed))
        ]
        # When each drifting member was last active: read for those few only, as it comes
        # from the rows themselves rather than the index the figures are read from.
        drifters = [h for h in histories if drift_reasons(h) and h.user_id not in (away or ())]
        last_changes = await self._group.last_changes(
            guild_id, [h.user_id for h in drifters], week_starts[-1], current.end_date
        )
        drifting = find_drifting(
            [replace(h, last_activity=last_changes.get(h.user_id)) for h in drifters]
        )
        return Overview(
            this_week=_figures(current, members, 0),
            last_week=_figures(current.previous(), members, 1),
            roster=sum(
                1 for m in staying.values() if any(_active(m, ago) for ago in range(ROSTER_WEEKS))
            ),
            reviews_owed=sum(d.owed for d in debts.values()) if debts is not None else None,
            reviews_overdue=sum(d.overdue for d in debts.values()) if debts is not None else None,
            faq_queue=faq_queue,
            drifting=tuple(drifting),
            left=len(departed),
            away=len(away) if away is not None else None,
        )

    # -- export ------------------------------------------------------------------------------

    async def export_csv(self, guild_id: int) -> AsyncIterator[bytes]:
        """The group's progress as CSV, one row per member per study week from the member's
        first active week to this one, yielded a page of members at a time."""
        current = await self.current_week(guild_id)
        yield _csv_lines([EXPORT_COLUMNS])
        after: int | None = None
        while ids := await self._next_members(guild_id, after):
            rows = await self._group.member_weeks(guild_id, None, current.end_date, ids)
            tallies = (
                await self._review_tallies(guild_id, ids, None, current.end_date)
                if self._review_tallies
                else {}
            )
            yield _csv_lines(_export_rows(current, ids, rows, tallies))
            after = ids[-1]

    async def _next_members(self, guild_id: int, after: int | None) -> list[int]:
        """The next page of members by id, from every source (keyset on each, then merged:
        the smallest ids of the union are among each source's smallest)."""
        ids = set(await self._group.member_ids(guild_id, after=after, limit=EXPORT_PAGE))
        if self._review_members is not None:
            ids.update(await self._review_members(guild_id, after, EXPORT_PAGE))
        return sorted(ids)[:EXPORT_PAGE]


def merge(a: MemberWeek, b: MemberWeek) -> MemberWeek:
    """Two rows of one member that fall in the same study week."""
    return MemberWeek(
        a.user_id,
        min(a.week_key, b.week_key),
        a.goals_set + b.goals_set,
        a.goals_done + b.goals_done,
        a.check_ins + b.check_ins,
        a.hours + b.hours,
    )


def _active(member: RecentActivity, ago: int) -> bool:
    return bool(member.goals_set[ago] or member.check_ins[ago])


def _history(user_id: int, member: RecentActivity | None, debt: ReviewDebt | None) -> MemberHistory:
    overdue = debt.overdue if debt else 0
    if member is None:  # owes reviews but has no goals or check-ins in these weeks
        return MemberHistory(user_id, overdue_reviews=overdue)
    weeks = range(len(member.check_ins))
    return MemberHistory(
        user_id=user_id,
        checkin_weeks=frozenset(ago for ago in weeks if member.check_ins[ago]),
        goal_weeks={
            ago: GoalWeek(member.goals_set[ago], member.goals_done[ago])
            for ago in weeks
            if member.goals_set[ago]
        },
        overdue_reviews=overdue,
    )


def _figures(week: StudyWeek, members: Sequence[RecentActivity], ago: int) -> WeekFigures:
    active = [m for m in members if _active(m, ago)]
    hours = [m.hours[ago] for m in active if m.check_ins[ago]]
    return WeekFigures(
        week=week,
        active=len(active),
        checked_in=len(hours),
        median_hours=statistics.median(hours) if hours else None,
        goals_set=sum(m.goals_set[ago] for m in active),
        goals_done=sum(m.goals_done[ago] for m in active),
    )


def _hours(value: float) -> str:
    return f"{round(value, 2):g}"


def _export_rows(
    current: StudyWeek,
    ids: Sequence[int],
    rows: Sequence[MemberWeek],
    tallies: Mapping[tuple[int, date], ReviewTally],
) -> list[tuple[object, ...]]:
    def start_of(key: date) -> date:
        return week_of(key, current.tz, current.week_start).key

    weeks: dict[int, dict[date, MemberWeek]] = defaultdict(dict)
    for row in rows:
        start = start_of(row.week_key)
        found = weeks[row.user_id]
        found[start] = merge(found[start], row) if start in found else row
    reviews: dict[tuple[int, date], ReviewTally] = {}
    for (user_id, key), tally in tallies.items():
        at = (user_id, start_of(key))
        before = reviews.get(at, ReviewTally())
        reviews[at] = ReviewTally(before.given + tally.given, before.received + tally.received)
    first_review: dict[int, date] = {}
    for user_id, start in reviews:
        first_review[user_id] = min(start, first_review.get(user_id, start))

    lines: list[tuple[object, ...]] = []
    for user_id in ids:
        found = weeks.get(user_id, {})
        starts = [*found, *([first_review[user_id]] if user_id in first_review else [])]
        if not starts:
            continue
        start = min(min(starts), current.key)
        while start <= current.key:
            week = found.get(start)
            tally = reviews.get((user_id, start), ReviewTally())
            lines.append(
                (
                    start.isoformat(),
                    user_id,
                    week.goals_set if week else 0,
                    week.goals_done if week else 0,
                    _hours(week.hours) if week else "0",
                    week.check_ins if week else 0,
                    tally.given,
                    tally.received,
                )
            )
            start += _WEEK
    return lines


def _csv_lines(rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()
