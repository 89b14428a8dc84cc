"""Who counts as drifting, on crafted histories (weeks ago: 0 = this week)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.drifting import GoalWeek, MemberHistory, drift_reasons, drifting

LATE = datetime(2026, 11, 1, tzinfo=UTC)
EARLY = datetime(2026, 10, 1, tzinfo=UTC)


def history(
    checkins: set[int] | None = None,
    goals: dict[int, tuple[int, int]] | None = None,
    overdue: int = 0,
    user_id: int = 1,
    last: datetime | None = None,
) -> MemberHistory:
    return MemberHistory(
        user_id=user_id,
        checkin_weeks=frozenset(checkins or set()),
        goal_weeks={ago: GoalWeek(*counts) for ago, counts in (goals or {}).items()},
        overdue_reviews=overdue,
        last_activity=last,
    )


def test_a_member_who_checks_in_every_week_is_not_drifting() -> None:
    assert drift_reasons(history({0, 1, 2, 3}, {1: (3, 3), 2: (2, 1)})) == ()


def test_checked_in_last_week_but_not_yet_this_week_is_fine() -> None:
    assert drift_reasons(history({1, 2, 3})) == ()


def test_two_quiet_weeks_after_being_active_is_drifting() -> None:
    assert drift_reasons(history({2, 3, 4})) == ("no check-in for 2 study weeks",)


def test_the_count_is_the_weeks_since_the_last_check_in() -> None:
    assert drift_reasons(history({5, 6})) == ("no check-in for 5 study weeks",)


def test_active_through_goals_only_then_quiet() -> None:
    assert drift_reasons(history(goals={3: (2, 2)})) == ("no check-in for 2+ study weeks",)


def test_never_active_is_not_drifting() -> None:
    assert drift_reasons(history()) == ()


def test_activity_older_than_the_lookback_does_not_count() -> None:
    # Weeks 2..9 are the lookback; a member last seen in week 10 has long gone, not drifted.
    assert drift_reasons(history({10, 11})) == ()
    assert drift_reasons(history({9})) == ("no check-in for 9 study weeks",)


def test_new_member_with_only_this_weeks_goals_is_not_drifting() -> None:
    assert drift_reasons(history(goals={0: (3, 0)})) == ()


def test_goals_mostly_open_two_finished_weeks_running() -> None:
    reasons = drift_reasons(history({0, 1, 2}, {1: (4, 1), 2: (3, 0)}))
    assert reasons == ("goals mostly open two weeks running (0/3, 1/4 done)",)


def test_half_done_is_not_mostly_open() -> None:
    assert drift_reasons(history({0, 1, 2}, {1: (4, 2), 2: (3, 0)})) == ()


def test_one_bad_week_is_not_a_run() -> None:
    assert drift_reasons(history({0, 1, 2}, {1: (4, 0), 2: (4, 4)})) == ()
    assert drift_reasons(history({0, 1, 2}, {1: (4, 0)})) == ()


def test_the_running_week_does_not_count_for_open_goals() -> None:
    assert drift_reasons(history({0, 1, 2}, {0: (5, 0), 1: (4, 0), 2: (4, 4)})) == ()


def test_overdue_reviews_alone_make_a_member_drift() -> None:
    assert drift_reasons(history({0, 1}, overdue=1)) == ("owes 1 overdue review",)
    assert drift_reasons(history(overdue=3)) == ("owes 3 overdue reviews",)


def test_every_reason_is_listed() -> None:
    reasons = drift_reasons(history({3}, {1: (2, 0), 2: (2, 0)}, overdue=2))
    assert reasons == (
        "no check-in for 3 study weeks",
        "goals mostly open two weeks running (0/2, 0/2 done)",
        "owes 2 overdue reviews",
    )


def test_drifting_lists_the_longest_inactive_first() -> None:
    found = drifting(
        [
            history({2}, user_id=3, last=LATE),
            history({0, 1}, user_id=1, last=LATE),  # fine
            history({4}, user_id=2, last=EARLY),
            history(overdue=1, user_id=4, last=None),
        ]
    )
    assert [d.user_id for d in found] == [4, 2, 3]
    assert found[1].reasons == ("no check-in for 4 study weeks",)
    assert found[1].last_activity == EARLY
