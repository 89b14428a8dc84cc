"""Who is drifting away from the group, and why (pure rules, no Discord, no database).

Weeks are counted back from the current study week: 0 is this week, 1 last week, and so on.
A member drifts when any of these holds:

* **gone quiet**: they had been active (a check-in or a goal) in the ``LOOKBACK_WEEKS`` before
  the last two study weeks, and have not checked in during those two weeks (this one and last);
* **goals mostly open**: in each of the last two *finished* weeks (1 and 2) they set goals and
  left more than half of them open (the current week is still running, so it does not count);
* **overdue reviews**: they owe peer reviews that are past due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.formatting import plural

QUIET_WEEKS = 2
LOOKBACK_WEEKS = 8
OPEN_GOAL_WEEKS = (2, 1)  # oldest first, as the reason lists them


@dataclass(frozen=True)
class GoalWeek:
    set: int
    done: int

    @property
    def mostly_open(self) -> bool:
        return self.set > 0 and (self.set - self.done) * 2 > self.set


@dataclass(frozen=True)
class MemberHistory:
    user_id: int
    # Weeks ago (0 = this week) in which the member checked in.
    checkin_weeks: frozenset[int] = frozenset()
    # Weeks ago → goals set and done that week.
    goal_weeks: Mapping[int, GoalWeek] = field(default_factory=dict)
    overdue_reviews: int = 0
    last_activity: datetime | None = None


@dataclass(frozen=True)
class Drifter:
    user_id: int
    reasons: tuple[str, ...]
    last_activity: datetime | None


def drift_reasons(history: MemberHistory) -> tuple[str, ...]:
    """Why this member counts as drifting (empty: they do not)."""
    reasons: list[str] = []
    recent = range(QUIET_WEEKS)
    earlier = range(QUIET_WEEKS, QUIET_WEEKS + LOOKBACK_WEEKS)
    active_before = any(w in history.checkin_weeks for w in earlier) or any(
        history.goal_weeks.get(w, GoalWeek(0, 0)).set for w in earlier
    )
    if active_before and not any(w in history.checkin_weeks for w in recent):
        earlier_checkins = [w for w in history.checkin_weeks if w in earlier]
        if earlier_checkins:
            reasons.append(f"no check-in for {plural(min(earlier_checkins), 'study week')}")
        else:
            reasons.append(f"no check-in for {QUIET_WEEKS}+ study weeks")
    open_weeks = [history.goal_weeks.get(w) for w in OPEN_GOAL_WEEKS]
    if all(week is not None and week.mostly_open for week in open_weeks):
        done = ", ".join(f"{w.done}/{w.set}" for w in open_weeks if w is not None)
        reasons.append(f"goals mostly open two weeks running ({done} done)")
    if history.overdue_reviews > 0:
        reasons.append(f"owes {plural(history.overdue_reviews, 'overdue review')}")
    return tuple(reasons)


def drifting(histories: list[MemberHistory]) -> list[Drifter]:
    """The drifting members, longest inactive first (then by id, for a stable order)."""
    found = [
        Drifter(h.user_id, reasons, h.last_activity)
        for h in histories
        if (reasons := drift_reasons(h))
    ]
    return sorted(
        found,
        key=lambda d: (
            d.last_activity is not None,
            d.last_activity.timestamp() if d.last_activity else 0.0,
            d.user_id,
        ),
    )
