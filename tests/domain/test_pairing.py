"""Peer-review pairing: rules, optimality against brute force, flow certificates, scale."""

from __future__ import annotations

import itertools
import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from benchmarks.bench_pairing import history_of
from bot.domain import pairing
from bot.domain.pairing import (
    CAPPED_BY_POOL,
    POOL_TOO_SMALL,
    Assignment,
    PairingResult,
    PastPair,
    Submission,
    assign_late,
    minimum_repeats_lower_bound,
    pair_round,
    reassign,
)

PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


# --- helpers --------------------------------------------------------------------------------


@contextmanager
def heuristic_only() -> Iterator[None]:
    """Force the large-instance path (no exact min-cost flow) on small inputs."""
    with mock.patch.object(pairing, "_EXACT_EDGES", -1):
        yield


def subs_for(members: Iterable[int]) -> list[Submission]:
    return [Submission(id=1000 + m, author_id=m) for m in members]


def authors_of(subs: Iterable[Submission]) -> dict[int, int]:
    return {s.id: s.author_id for s in subs}


def loads_of(assignments: Iterable[Assignment], pool: Iterable[int]) -> Counter[int]:
    loads: Counter[int] = Counter({r: 0 for r in pool})
    loads.update(a.reviewer_id for a in assignments)
    return loads


def check_round(
    result: PairingResult,
    subs: Sequence[Submission],
    pool: Sequence[int],
    per_submission: int,
    already: Sequence[Assignment] = (),
) -> None:
    """The hard rules: k distinct non-author reviewers from the pool, loads within one."""
    k = max(0, min(per_submission, len(set(pool)) - 1))
    assert result.reviewers_per_submission == k
    author = authors_of(subs)
    everything = [*already, *result.assignments]
    by_sub: dict[int, list[int]] = {}
    for a in everything:
        by_sub.setdefault(a.submission_id, []).append(a.reviewer_id)
    for a in result.assignments:
        assert a.reviewer_id in pool
        assert a.reviewer_id != author[a.submission_id]
    for s in subs:
        got = by_sub.get(s.id, [])
        assert len(got) == len(set(got))
        if k:
            assert len(got) == k
    assert list(result.assignments) == sorted(
        result.assignments, key=lambda a: (a.submission_id, a.reviewer_id)
    )
    if k:
        loads = loads_of(everything, pool)
        assert max(loads.values()) - min(loads.values()) <= 1
        assert result.unpaired_submission_ids == ()


def last_seen(
    history: Iterable[PastPair], current: Iterable[tuple[int, int]] = ()
) -> dict[tuple[int, int], int]:
    """(reviewer, author) → most recent age; pairs of the current round are age 0."""
    seen: dict[tuple[int, int], int] = {}
    for p in history:
        key = (p.reviewer_id, p.author_id)
        seen[key] = min(seen.get(key, p.rounds_ago), p.rounds_ago)
    for key in current:
        seen[key] = 0
    return seen


def repeat_ages(
    pairs: Iterable[tuple[int, int]], seen: dict[tuple[int, int], int]
) -> tuple[list[int], list[int]]:
    """Ages of same-direction and of reverse-only repeats among (reviewer, author) pairs."""
    same: list[int] = []
    reverse: list[int] = []
    for reviewer, author in pairs:
        if (reviewer, author) in seen:
            same.append(seen[reviewer, author])
        elif (author, reviewer) in seen:
            reverse.append(seen[author, reviewer])
    return same, reverse


def objective(
    pairs: Iterable[tuple[int, int]], seen: dict[tuple[int, int], int]
) -> tuple[object, ...]:
    """The documented lexicographic cost: fewer same-direction, then older (from the most
    recent down), then fewer reverse, then older."""
    same, reverse = repeat_ages(pairs, seen)
    return (
        len(same),
        tuple(-age for age in sorted(same)),
        len(reverse),
        tuple(-age for age in sorted(reverse)),
    )


def result_pairs(result: PairingResult, subs: Iterable[Submission]) -> list[tuple[int, int]]:
    author = authors_of(subs)
    return [(a.reviewer_id, author[a.submission_id]) for a in result.assignments]


def balanced_assignments(
    subs: Sequence[Submission], pool: Sequence[int], k: int
) -> Iterator[list[tuple[int, int]]]:
    """Every assignment (as (reviewer, author) pairs) that keeps the rules, by brute force."""
    ceiling = -(-len(subs) * k // len(pool))
    floor = len(subs) * k // len(pool)
    loads = dict.fromkeys(pool, 0)
    chosen: list[tuple[int, ...]] = []
    options = [list(itertools.combinations([r for r in pool if r != s.author_id], k)) for s in subs]

    def walk(i: int) -> Iterator[list[tuple[int, int]]]:
        if i == len(subs):
            if min(loads.values()) >= floor:
                yield [(r, s.author_id) for s, rs in zip(subs, chosen, strict=True) for r in rs]
            return
        for combo in options[i]:
            if all(loads[r] < ceiling for r in combo):
                for r in combo:
                    loads[r] += 1
                chosen.append(combo)
                yield from walk(i + 1)
                chosen.pop()
                for r in combo:
                    loads[r] -= 1

    yield from walk(0)


def max_flow_bound(
    subs: Sequence[Submission],
    pool: Sequence[int],
    k: int,
    allowed: set[tuple[int, int]] | None,
) -> int:
    """Independent Edmonds–Karp on the explicit balanced network (loads floor/ceil via a hub)."""
    src, sink, hub = "src", "sink", "hub"
    cap: dict[tuple[object, object], int] = {}
    adj: dict[object, list[object]] = {}

    def edge(u: object, v: object, c: int) -> None:
        cap[u, v] = cap.get((u, v), 0) + c
        cap.setdefault((v, u), 0)
        adj.setdefault(u, []).append(v)
        adj.setdefault(v, []).append(u)

    demand = len(subs) * k
    for s in subs:
        edge(src, ("s", s.id), k)
        for r in pool:
            if r != s.author_id and (allowed is None or (r, s.author_id) in allowed):
                edge(("s", s.id), ("r", r), 1)
    for r in pool:
        edge(("r", r), sink, demand // len(pool))
        edge(("r", r), hub, 1)
    edge(hub, sink, demand % len(pool))
    flow = 0
    while True:
        parent: dict[object, object] = {src: src}
        queue: deque[object] = deque([src])
        while queue and sink not in parent:
            u = queue.popleft()
            for v in adj.get(u, []):
                if v not in parent and cap[u, v] > 0:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return flow
        node: object = sink
        while node != src:
            u = parent[node]
            cap[u, node] -= 1
            cap[node, u] += 1
            node = u
        flow += 1


def simulate(
    members: Sequence[int], rounds: int, per_submission: int, seed: int = 0
) -> tuple[list[PairingResult], list[PastPair]]:
    """Run consecutive rounds, each fed the history of the ones before."""
    subs = subs_for(members)
    author = authors_of(subs)
    history: list[PastPair] = []
    results = []
    for number in range(rounds):
        result = pair_round(subs, members, per_submission, history, seed=seed + number)
        check_round(result, subs, members, per_submission)
        results.append(result)
        history = [PastPair(p.reviewer_id, p.author_id, p.rounds_ago + 1) for p in history]
        history += [PastPair(a.reviewer_id, author[a.submission_id], 1) for a in result.assignments]
    return results, history


@st.composite
def rounds(
    draw: st.DrawFn, max_members: int = 12
) -> tuple[list[Submission], list[int], int, list[PastPair], int]:
    """A round: members (random big ids), some paused, maybe a non-author reviewer, history."""
    members = draw(st.lists(st.integers(1, 2**62), unique=True, min_size=0, max_size=max_members))
    paused = set(draw(st.sets(st.sampled_from(members)))) if members else set()
    extra = draw(st.lists(st.integers(-1000, -1), unique=True, max_size=1))
    pool = [m for m in members if m not in paused] + extra
    per_submission = draw(st.integers(1, 3))
    everyone = members + extra
    history: list[PastPair] = []
    if len(everyone) >= 2:
        raw = draw(
            st.lists(
                st.tuples(st.sampled_from(everyone), st.sampled_from(everyone), st.integers(1, 8)),
                max_size=4 * len(everyone),
            )
        )
        history = [PastPair(r, a, age) for r, a, age in raw if r != a]
    seed = draw(st.integers(0, 2**32))
    ids = draw(
        st.lists(st.integers(0, 10**9), unique=True, min_size=len(members), max_size=len(members))
    )
    subs = [Submission(i, m) for i, m in zip(ids, members, strict=True)]
    return subs, pool, per_submission, history, seed


# --- the hard rules -------------------------------------------------------------------------


@PROPERTY
@given(rounds(), st.booleans())
def test_rules_hold_for_random_rounds(
    case: tuple[list[Submission], list[int], int, list[PastPair], int], large_path: bool
) -> None:
    subs, pool, per_submission, history, seed = case
    if large_path:
        with heuristic_only():
            result = pair_round(subs, pool, per_submission, history, seed)
    else:
        result = pair_round(subs, pool, per_submission, history, seed)
    check_round(result, subs, pool, per_submission)
    same, reverse = repeat_ages(result_pairs(result, subs), last_seen(history))
    assert (result.repeats, result.reverse_repeats) == (len(same), len(reverse))
    if len(set(pool)) < 2 and subs:
        assert result.assignments == ()
        assert result.reason == POOL_TOO_SMALL
        assert set(result.unpaired_submission_ids) == {s.id for s in subs}


@PROPERTY
@given(rounds())
def test_same_inputs_same_output(
    case: tuple[list[Submission], list[int], int, list[PastPair], int],
) -> None:
    subs, pool, per_submission, history, seed = case
    first = pair_round(subs, pool, per_submission, history, seed)
    # Same content, different order and object identity: still the same answer.
    again = pair_round(
        list(reversed(subs)),
        list(reversed(pool)),
        per_submission,
        list(reversed(history)),
        seed,
    )
    assert first == again


def test_different_seeds_give_different_pairings() -> None:
    members = list(range(1, 21))
    subs = subs_for(members)
    outcomes = {pair_round(subs, members, 2, seed=seed).assignments for seed in range(5)}
    assert len(outcomes) > 1


def test_paused_author_is_reviewed_but_reviews_nobody() -> None:
    members = [1, 2, 3, 4, 5]
    paused = 5
    pool = [m for m in members if m != paused]
    subs = subs_for(members)
    result = pair_round(subs, pool, 2, seed=3)
    check_round(result, subs, pool, 2)
    assert paused not in {a.reviewer_id for a in result.assignments}
    assert sum(a.submission_id == 1000 + paused for a in result.assignments) == 2
    # 5 submissions × 2 reviews over 4 reviewers: loads 2 or 3.
    assert sorted(loads_of(result.assignments, pool).values()) == [2, 2, 3, 3]


def test_pool_of_zero() -> None:
    result = pair_round(subs_for([1, 2]), [], 2)
    assert result.assignments == ()
    assert result.reason == POOL_TOO_SMALL
    assert result.unpaired_submission_ids == (1001, 1002)


def test_pool_of_one_pairs_nobody_even_a_paused_author() -> None:
    # Member 1 is the only reviewer; member 2 is paused but submitted.
    result = pair_round(subs_for([1, 2]), [1], 2)
    assert result.assignments == ()
    assert result.reviewers_per_submission == 0
    assert result.reason == POOL_TOO_SMALL
    assert result.unpaired_submission_ids == (1001, 1002)


def test_pool_of_two_reviews_each_other_and_says_capped() -> None:
    result = pair_round(subs_for([1, 2]), [1, 2], 2)
    assert result.assignments == (Assignment(1001, 2), Assignment(1002, 1))
    assert result.reviewers_per_submission == 1
    assert result.reason == CAPPED_BY_POOL
    assert pair_round(subs_for([1, 2]), [1, 2], 1).reason is None


def test_no_submissions() -> None:
    result = pair_round([], [1, 2, 3], 2)
    assert result == PairingResult((), 2)


def test_invalid_input_is_rejected() -> None:
    with pytest.raises(ValueError):
        pair_round(subs_for([1, 2]), [1, 2], 0)
    with pytest.raises(ValueError):
        PastPair(1, 2, 0)
    with pytest.raises(ValueError):
        pair_round([Submission(1, 1), Submission(1, 2)], [1, 2], 1)


@pytest.mark.parametrize("large_path", [False, True])
def test_duplicate_authors_go_to_the_least_loaded_when_balance_is_impossible(
    large_path: bool,
) -> None:
    # Member 1 submitted three times; only 2 and 3 can review those, 1 reviews the others.
    subs = [Submission(1, 1), Submission(2, 1), Submission(3, 1), Submission(4, 2)]
    if large_path:
        with heuristic_only():
            result = pair_round(subs, [1, 2, 3], 1, seed=1)
    else:
        result = pair_round(subs, [1, 2, 3], 1, seed=1)
    author = authors_of(subs)
    assert all(author[a.submission_id] != a.reviewer_id for a in result.assignments)
    assert len(result.assignments) == 4
    assert result.unpaired_submission_ids == ()
    # 4 reviews over 3 reviewers, and 1 can only take submission 4: loads 1, 1 and 2.
    assert sorted(loads_of(result.assignments, [1, 2, 3]).values()) == [1, 1, 2]


def test_one_reviewer_takes_everything_it_can() -> None:
    # Member 1 submitted three times and 2 is the only other reviewer: 2 gets all three.
    subs = [Submission(1, 1), Submission(2, 1), Submission(3, 1), Submission(4, 2)]
    result = pair_round(subs, [1, 2], 1, seed=1)
    assert result.assignments == (
        Assignment(1, 2),
        Assignment(2, 2),
        Assignment(3, 2),
        Assignment(4, 1),
    )


# --- repeats --------------------------------------------------------------------------------


@pytest.mark.parametrize("large_path", [False, True])
@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8, 9, 12, 25])
def test_n_members_over_n_minus_1_rounds_never_repeat_a_direction(n: int, large_path: bool) -> None:
    members = [10 * m for m in range(1, n + 1)]
    if large_path:
        with heuristic_only():
            results, history = simulate(members, n - 1, 1, seed=n)
    else:
        results, history = simulate(members, n - 1, 1, seed=n)
    assert [r.repeats for r in results] == [0] * (n - 1)
    # So every member has reviewed every other member exactly once.
    directed = Counter((p.reviewer_id, p.author_id) for p in history)
    assert len(directed) == n * (n - 1)
    assert set(directed.values()) == {1}


@pytest.mark.parametrize("large_path", [False, True])
def test_forced_repeats_take_the_oldest(large_path: bool) -> None:
    # Three members can only form one of two 3-cycles; both were used, the second one longer ago.
    recent = [PastPair(1, 2, 1), PastPair(2, 3, 1), PastPair(3, 1, 1)]
    older = [PastPair(2, 1, 2), PastPair(3, 2, 2), PastPair(1, 3, 2)]
    subs = subs_for([1, 2, 3])
    if large_path:
        with heuristic_only():
            result = pair_round(subs, [1, 2, 3], 1, recent + older, seed=5)
    else:
        result = pair_round(subs, [1, 2, 3], 1, recent + older, seed=5)
    assert sorted(result_pairs(result, subs)) == [(1, 3), (2, 1), (3, 2)]
    assert (result.repeats, result.reverse_repeats) == (3, 0)


@pytest.mark.parametrize("large_path", [False, True])
def test_reverse_repeat_is_preferred_to_same_direction(large_path: bool) -> None:
    subs = subs_for([1, 2, 3])
    history = [PastPair(1, 2, 8), PastPair(2, 3, 8), PastPair(3, 1, 8)]
    if large_path:
        with heuristic_only():
            result = pair_round(subs, [1, 2, 3], 1, history, seed=2)
    else:
        result = pair_round(subs, [1, 2, 3], 1, history, seed=2)
    assert sorted(result_pairs(result, subs)) == [(1, 3), (2, 1), (3, 2)]
    assert (result.repeats, result.reverse_repeats) == (0, 3)


def test_forced_repeats_oldest_among_many_members() -> None:
    # Every directed pair of 6 members happened, at varied ages: the best derangement is found.
    members = [1, 2, 3, 4, 5, 6]
    rng = random.Random(11)
    history = [PastPair(r, a, rng.randint(1, 8)) for r in members for a in members if r != a]
    subs = subs_for(members)
    seen = last_seen(history)
    result = pair_round(subs, members, 1, history, seed=4)
    best = min(objective(p, seen) for p in balanced_assignments(subs, members, 1))
    assert objective(result_pairs(result, subs), seen) == best
    assert result.repeats == 6


@settings(deadline=None, max_examples=120)
@given(rounds(max_members=5))
def test_exact_solver_matches_brute_force(
    case: tuple[list[Submission], list[int], int, list[PastPair], int],
) -> None:
    subs, pool, per_submission, history, seed = case
    pool = sorted(set(pool))
    k = min(per_submission, len(pool) - 1)
    if k < 1 or not subs:
        return
    seen = last_seen(history)
    result = pair_round(subs, pool, per_submission, history, seed)
    best = min(objective(p, seen) for p in balanced_assignments(subs, pool, k))
    assert objective(result_pairs(result, subs), seen) == best


@settings(deadline=None, max_examples=120)
@given(rounds(max_members=5))
def test_lower_bound_is_exact_about_zero(
    case: tuple[list[Submission], list[int], int, list[PastPair], int],
) -> None:
    """The bound never exceeds the true minimum, and is 0 exactly when the minimum is 0."""
    subs, pool, per_submission, history, _ = case
    pool = sorted(set(pool))
    k = min(per_submission, len(pool) - 1)
    if k < 1 or not subs:
        return
    seen = last_seen(history)
    fewest_any = fewest_same = len(subs) * k
    for pairs in balanced_assignments(subs, pool, k):
        same, reverse = repeat_ages(pairs, seen)
        fewest_any = min(fewest_any, len(same) + len(reverse))
        fewest_same = min(fewest_same, len(same))
    bound = minimum_repeats_lower_bound(subs, pool, per_submission, history)
    assert bound.balanced
    assert bound.demand == len(subs) * k
    assert 0 <= bound.repeats <= fewest_any
    assert 0 <= bound.same_direction <= fewest_same
    assert (bound.repeats == 0) == (fewest_any == 0)
    assert (bound.same_direction == 0) == (fewest_same == 0)


@PROPERTY
@given(rounds(max_members=30), st.booleans())
def test_zero_repeats_whenever_the_flow_bound_allows(
    case: tuple[list[Submission], list[int], int, list[PastPair], int], large_path: bool
) -> None:
    subs, pool, per_submission, history, seed = case
    bound = minimum_repeats_lower_bound(subs, pool, per_submission, history)
    # Cross-check the module's implicit max flow with an explicit, independent one.
    k = max(0, min(per_submission, len(set(pool)) - 1))
    if k and subs:
        seen = last_seen(history)
        clean = {
            (r, s.author_id)
            for s in subs
            for r in set(pool)
            if (r, s.author_id) not in seen and (s.author_id, r) not in seen
        }
        not_same = {
            (r, s.author_id) for s in subs for r in set(pool) if (r, s.author_id) not in seen
        }
        pool_set = sorted(set(pool))
        assert bound.demand - max_flow_bound(subs, pool_set, k, clean) == bound.repeats
        assert bound.demand - max_flow_bound(subs, pool_set, k, not_same) == bound.same_direction
    if large_path:
        with heuristic_only():
            result = pair_round(subs, pool, per_submission, history, seed)
    else:
        result = pair_round(subs, pool, per_submission, history, seed)
    check_round(result, subs, pool, per_submission)
    assert result.repeats + result.reverse_repeats >= bound.repeats
    assert result.repeats >= bound.same_direction
    if bound.repeats == 0:
        assert result.repeats + result.reverse_repeats == 0
    if bound.same_direction == 0:
        assert result.repeats == 0


def test_sparse_exact_solver_equals_full_graph() -> None:
    # 40 members, 2 reviewers, 14 rounds of history: repeats are forced, so the exact solver runs.
    members = list(range(1, 41))
    _, history = simulate(members, 14, 2, seed=7)
    subs = subs_for(members)
    seen = last_seen(history)
    assert minimum_repeats_lower_bound(subs, members, 2, history).repeats > 0
    for seed in range(3):
        sparse = pair_round(subs, members, 2, history, seed)
        with mock.patch.object(pairing, "_SPARSE_EXTRA", 10_000):
            full = pair_round(subs, members, 2, history, seed)
        check_round(sparse, subs, members, 2)
        assert objective(result_pairs(sparse, subs), seen) == objective(
            result_pairs(full, subs), seen
        )


def test_long_history_meets_the_flow_bounds_round_after_round() -> None:
    # 30 members, 2 reviewers, 20 rounds: every pair gets used one way, then both ways. Each
    # round has exactly as many repeats as the max-flow bounds force (the bounds are tight here;
    # in general they are only lower bounds).
    members = list(range(1, 31))
    subs = subs_for(members)
    author = authors_of(subs)
    history: list[PastPair] = []
    forced = []
    for number in range(20):
        bound = minimum_repeats_lower_bound(subs, members, 2, history)
        result = pair_round(subs, members, 2, history, seed=number)
        check_round(result, subs, members, 2)
        assert result.repeats == bound.same_direction
        assert result.repeats + result.reverse_repeats == bound.repeats
        forced.append((bound.same_direction, bound.repeats))
        history = [PastPair(p.reviewer_id, p.author_id, p.rounds_ago + 1) for p in history]
        history += [PastPair(a.reviewer_id, author[a.submission_id], 1) for a in result.assignments]
    assert forced[0] == (0, 0)
    assert forced[-1] == (60, 60)


# --- re-runs, late submissions, reassignment ------------------------------------------------


def test_running_again_pairs_only_new_submissions() -> None:
    members = list(range(1, 11))
    subs = subs_for(members)
    first = pair_round(subs, members, 2, seed=1)
    late = Submission(5000, 11)
    pool = [*members, 11]
    again = pair_round([*subs, late], pool, 2, seed=1, already_assigned=first.assignments)
    assert {a.submission_id for a in again.assignments} == {5000}
    assert len(again.assignments) == 2
    unchanged = pair_round(subs, members, 2, seed=9, already_assigned=first.assignments)
    assert unchanged.assignments == ()


def test_late_submission_goes_to_the_least_loaded() -> None:
    members = list(range(1, 8))
    subs = subs_for(members)
    current = list(pair_round(subs, members, 2, seed=3).assignments)
    all_subs = list(subs)
    for number in range(6):
        late = Submission(9000 + number, 100 + number)  # a member who was not in the round
        before = loads_of(current, members)
        result = assign_late(late, all_subs, members, 2, [], current, seed=number)
        assert len(result.assignments) == 2
        lowest = min(before.values())
        for a in result.assignments:
            assert before[a.reviewer_id] == lowest or all(v >= lowest for v in before.values())
        current += result.assignments
        all_subs.append(late)
        loads = loads_of(current, members)
        assert max(loads.values()) - min(loads.values()) <= 1


def test_late_submission_avoids_repeats_among_the_least_loaded() -> None:
    members = [1, 2, 3, 4, 5, 6]
    subs = subs_for(members)
    # A ring: i reviews i+1, so every load is 1.
    current = [Assignment(1000 + i % 6 + 1, i) for i in members]
    late = Submission(7000, 99)
    # 99 met 1, 2 and 3 before (either direction): the late pair avoids them.
    mixed = [PastPair(1, 99, 1), PastPair(99, 2, 1), PastPair(3, 99, 7)]
    result = assign_late(late, subs, members, 2, mixed, current, seed=4)
    assert {a.reviewer_id for a in result.assignments} <= {4, 5, 6}
    assert (result.repeats, result.reverse_repeats) == (0, 0)
    # Now 4, 5 and 6 carry one more review: balance wins over repeats, so the one reviewer
    # comes from 1, 2 and 3. A reverse repeat beats any same-direction one...
    current += [Assignment(1001, 4), Assignment(1002, 5), Assignment(1003, 6)]
    forced = assign_late(late, subs, members, 1, mixed, current, seed=4)
    assert [a.reviewer_id for a in forced.assignments] == [2]
    assert (forced.repeats, forced.reverse_repeats) == (0, 1)
    # ...and among same-direction repeats the oldest is taken.
    same = [PastPair(1, 99, 1), PastPair(2, 99, 3), PastPair(3, 99, 7)]
    oldest = assign_late(late, subs, members, 1, same, current, seed=4)
    assert [a.reviewer_id for a in oldest.assignments] == [3]
    assert oldest == assign_late(late, subs, members, 1, same, current, seed=4)


def squares(assignments: Iterable[Assignment], pool: Iterable[int]) -> int:
    return sum(v * v for v in loads_of(assignments, pool).values())


@st.composite
def paired_rounds(
    draw: st.DrawFn,
) -> tuple[list[Submission], list[int], int, list[PastPair], list[Assignment]]:
    """A small round already paired, then skewed by a few extra assignments."""
    subs, pool, per_submission, history, seed = draw(rounds(max_members=7))
    pool = sorted(set(pool))
    current = list(pair_round(subs, pool, per_submission, history, seed).assignments)
    if subs and len(pool) >= 2:
        author = authors_of(subs)
        taken = set(current)
        for sid, r in draw(
            st.lists(st.tuples(st.sampled_from(sorted(author)), st.sampled_from(pool)), max_size=4)
        ):
            extra = Assignment(sid, r)
            if r != author[sid] and extra not in taken:
                taken.add(extra)
                current.append(extra)
    return subs, pool, per_submission, history, current


@settings(deadline=None, max_examples=120)
@given(paired_rounds(), st.integers(0, 2**32))
# The late author may already be a reviewer of the round (here the least loaded one).
@example(
    (
        [Submission(10, 1), Submission(11, 2), Submission(12, 3)],
        [-77, 1, 2, 3],
        1,
        [],
        [Assignment(10, 2), Assignment(11, 3), Assignment(12, 1)],
    ),
    0,
)
def test_late_submission_is_optimal_against_brute_force(
    case: tuple[list[Submission], list[int], int, list[PastPair], list[Assignment]], seed: int
) -> None:
    subs, pool, per_submission, history, current = case
    late = Submission(-1, -77)
    result = assign_late(late, subs, pool, per_submission, history, current, seed)
    k = max(0, min(per_submission, len(pool) - 1))
    assert result.reviewers_per_submission == k
    if k == 0:
        assert result.assignments == ()
        return
    author = {**authors_of(subs), late.id: late.author_id}
    seen = last_seen(history, [(a.reviewer_id, author[a.submission_id]) for a in current])

    def key(chosen: Sequence[int]) -> tuple[object, ...]:
        new = [Assignment(late.id, r) for r in chosen]
        return (squares([*current, *new], pool), objective([(r, -77) for r in chosen], seen))

    others = [r for r in pool if r != late.author_id]  # nobody reviews themselves
    best = min(key(c) for c in itertools.combinations(others, k))
    assert len(result.assignments) == k
    assert key([a.reviewer_id for a in result.assignments]) == best


@settings(deadline=None, max_examples=120)
@given(paired_rounds(), st.data())
def test_reassign_is_optimal_against_brute_force(
    case: tuple[list[Submission], list[int], int, list[PastPair], list[Assignment]],
    data: st.DataObject,
) -> None:
    subs, pool, _, history, current = case
    if not current:
        return
    leaving = data.draw(st.sampled_from(sorted({a.reviewer_id for a in current})))
    theirs = [a for a in current if a.reviewer_id == leaving]
    pending = data.draw(st.lists(st.sampled_from(theirs), unique=True, min_size=1))
    remaining = [r for r in pool if r != leaving]
    result = reassign(pending, subs, remaining, history, current, data.draw(st.integers(0, 99)))
    author = authors_of(subs)
    kept = [a for a in current if a not in pending]
    seen = last_seen(history, [(a.reviewer_id, author[a.submission_id]) for a in kept])
    on = {
        a.submission_id: {b.reviewer_id for b in current if b.submission_id == a.submission_id}
        for a in pending
    }
    options = [
        [r for r in remaining if r != author[a.submission_id] and r not in on[a.submission_id]]
        for a in sorted(pending, key=lambda a: a.submission_id)
    ]
    movable = [
        a for a, o in zip(sorted(pending, key=lambda a: a.submission_id), options, strict=True) if o
    ]
    assert sorted(result.unpaired_submission_ids) == sorted(
        a.submission_id
        for a, o in zip(sorted(pending, key=lambda a: a.submission_id), options, strict=True)
        if not o
    )

    def key(new: Sequence[Assignment]) -> tuple[object, ...]:
        return (
            squares([*kept, *new], remaining),
            objective([(a.reviewer_id, author[a.submission_id]) for a in new], seen),
        )

    best = min(
        key([Assignment(a.submission_id, r) for a, r in zip(movable, choice, strict=True)])
        for choice in itertools.product(*[o for o in options if o])
    )
    assert len(result.assignments) == len(movable)
    assert key(result.assignments) == best


def test_late_submission_with_a_pool_of_one() -> None:
    result = assign_late(Submission(5, 9), [], [1], 2, [], [])
    assert result.assignments == ()
    assert result.reason == POOL_TOO_SMALL
    assert result.unpaired_submission_ids == (5,)


def test_reassign_moves_pending_reviews_within_the_rules() -> None:
    members = list(range(1, 9))
    subs = subs_for(members)
    current = list(pair_round(subs, members, 2, seed=5).assignments)
    leaving = 4
    done = [a for a in current if a.reviewer_id == leaving][:1]
    pending = [a for a in current if a.reviewer_id == leaving and a not in done]
    remaining = [m for m in members if m != leaving]
    result = reassign(pending, subs, remaining, [], current, seed=1)
    assert len(result.assignments) == len(pending)
    author = authors_of(subs)
    on_submission: dict[int, set[int]] = {}
    for a in current:
        on_submission.setdefault(a.submission_id, set()).add(a.reviewer_id)
    for new in result.assignments:
        assert new.reviewer_id != leaving
        assert new.reviewer_id != author[new.submission_id]
        assert new.reviewer_id not in on_submission[new.submission_id]
    after = [a for a in current if a not in pending] + list(result.assignments)
    loads = loads_of([a for a in after if a.reviewer_id != leaving], remaining)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert reassign(pending, subs, remaining, [], current, seed=1) == result


def test_reassign_avoids_a_reciprocal_pair_in_the_same_round() -> None:
    subs = subs_for([1, 2, 3, 4, 5])
    # 5 leaves; its review of 1's work moves. 1 already reviews 2 this round.
    current = [
        Assignment(1001, 5),
        Assignment(1002, 1),
        Assignment(1003, 4),
        Assignment(1004, 3),
        Assignment(1005, 2),
    ]
    result = reassign([Assignment(1001, 5)], subs, [1, 2, 3, 4], [], current, seed=0)
    # Candidates 2, 3 and 4 all have load 1; 2 would be reciprocal with 1 this round.
    assert len(result.assignments) == 1
    assert result.assignments[0].reviewer_id in {3, 4}
    assert result.reverse_repeats == 0


def test_reassign_with_nobody_left_reports_it() -> None:
    subs = subs_for([1, 2])
    current = [Assignment(1001, 2), Assignment(1002, 1)]
    result = reassign([Assignment(1001, 2)], subs, [1], [], current)
    assert result.assignments == ()
    assert result.unpaired_submission_ids == (1001,)
    assert result.reason == POOL_TOO_SMALL


# --- scale ----------------------------------------------------------------------------------


def test_thousand_submissions_with_history_are_valid_and_repeat_free() -> None:
    members = list(range(10**15, 10**15 + 1000))
    history = history_of(members, 8, 2, seed=3)
    subs = subs_for(members)
    result = pair_round(subs, members, 2, history, seed=8)
    check_round(result, subs, members, 2)
    assert (result.repeats, result.reverse_repeats) == (0, 0)
    assert minimum_repeats_lower_bound(subs, members, 2, history).repeats == 0


@pytest.mark.slow
def test_ten_thousand_submissions_with_history_are_valid_and_repeat_free() -> None:
    members = list(range(10**15, 10**15 + 10_000))
    history = history_of(members, 8, 2, seed=4)
    subs = subs_for(members)
    result = pair_round(subs, members, 2, history, seed=9)
    check_round(result, subs, members, 2)
    assert (result.repeats, result.reverse_repeats) == (0, 0)
    seen = last_seen(history)
    assert all((r, a) not in seen and (a, r) not in seen for r, a in result_pairs(result, subs))
