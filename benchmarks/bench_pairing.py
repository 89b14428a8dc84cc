"""Peer-review pairing: time, and repeats against the proven minimum.

Workload: every member submitted, 2 reviewers per submission, and 8 earlier rounds of history
(each a random circulant round, so every member has about 32 earlier partners).

How the minimum is established: ``minimum_repeats_lower_bound`` solves a maximum flow over the
pairing network (submission → reviewer → sink, loads balanced within one) restricted to
reviewer–author pairs that never met. ``demand − max flow`` is a lower bound on the repeats of
*any* balanced pairing; a bound of 0 is a certificate that a repeat-free pairing exists. The
pairing meets the target when its repeats equal that bound.

Baseline: the obvious pairing in the same run: shuffle the members and let each review the
next two in the circle (balanced and never self-review, but blind to history).
"""

from __future__ import annotations

import random
import time

from benchmarks.framework import Result, median, percentile, repeat
from benchmarks.support import frozen_heap, repeat_with_cpu
from bot.domain.pairing import (
    Assignment,
    PastPair,
    Submission,
    minimum_repeats_lower_bound,
    pair_round,
)

REVIEWERS = 2
HISTORY_ROUNDS = 8
TARGETS = {1_000: 0.100, 10_000: 2.0}


def history_of(members: list[int], rounds: int, per_round: int, seed: int) -> list[PastPair]:
    """Circulant rounds over shuffled members: fast history for large pools."""
    rng = random.Random(seed)
    history = []
    for age in range(1, rounds + 1):
        order = list(members)
        rng.shuffle(order)
        n = len(order)
        for i, author in enumerate(order):
            for shift in range(1, per_round + 1):
                history.append(PastPair(order[(i + shift) % n], author, age))
    return history


def naive(subs: list[Submission], members: list[int], seed: int) -> list[Assignment]:
    order = list(members)
    random.Random(seed).shuffle(order)
    position = {m: i for i, m in enumerate(order)}
    n = len(order)
    return [
        Assignment(s.id, order[(position[s.author_id] + shift) % n])
        for s in subs
        for shift in range(1, REVIEWERS + 1)
    ]


def count_repeats(
    assignments: tuple[Assignment, ...] | list[Assignment],
    authors: dict[int, int],
    history: list[PastPair],
) -> tuple[int, int]:
    """(same-direction, reverse-only) repeats of the assignments against the history."""
    met = {(p.reviewer_id, p.author_id) for p in history}
    same = reverse = 0
    for a in assignments:
        author = authors[a.submission_id]
        if (a.reviewer_id, author) in met:
            same += 1
        elif (author, a.reviewer_id) in met:
            reverse += 1
    return same, reverse


def measure(size: int, repeats: int) -> list[Result]:
    rng = random.Random(size)
    members = sorted(rng.sample(range(10**17, 10**17 + 10**9), size))
    subs = [Submission(n + 1, m) for n, m in enumerate(members)]
    authors = {s.id: s.author_id for s in subs}
    history = history_of(members, HISTORY_ROUNDS, REVIEWERS, seed=size + 1)

    seeds = iter(range(10**6))
    outcomes: list[tuple[int, int]] = []

    def ours() -> None:
        result = pair_round(subs, members, REVIEWERS, history, seed=next(seeds))
        outcomes.append((result.repeats, result.reverse_repeats))

    times, cpu = repeat_with_cpu(ours, warmup=1, repeats=repeats)
    naive_times = repeat(lambda: naive(subs, members, next(seeds)), warmup=1, repeats=repeats)
    naive_repeats = [count_repeats(naive(subs, members, s), authors, history) for s in range(5)]

    start = time.perf_counter()
    bound = minimum_repeats_lower_bound(subs, members, REVIEWERS, history)
    bound_seconds = time.perf_counter() - start

    # Recount the last pairing independently of the solver's own bookkeeping.
    check = pair_round(subs, members, REVIEWERS, history, seed=0)
    recount = count_repeats(check.assignments, authors, history)
    assert recount == (check.repeats, check.reverse_repeats), (recount, check)

    worst = max(same + reverse for same, reverse in outcomes)
    worst_same = max(same for same, _ in outcomes)
    t50, t99 = median(times), percentile(times, 99)
    n50 = median(naive_times)
    naive_total = median([same + reverse for same, reverse in naive_repeats])
    workload = (
        f"{size:,} submissions × {REVIEWERS} reviewers, {HISTORY_ROUNDS} rounds of history "
        f"({len(history):,} pairs)"
    )
    return [
        Result(
            benchmark=f"pairing {size:,}",
            workload=workload,
            unit="s",
            median=t50,
            p99=t99,
            target=f"≤ {TARGETS[size] * 1000:,.0f} ms",
            met=t99 <= TARGETS[size],
            baseline_name="naive shuffled circle",
            baseline=n50,
            ratio=n50 / t50,
            notes=(
                f"{len(times)} runs (different seeds); CPU time p50 {median(cpu) * 1000:,.1f} "
                f"ms, p99 {percentile(cpu, 99) * 1000:,.1f} ms; naive ignores history"
            ),
        ),
        Result(
            benchmark=f"pairing {size:,} repeats",
            workload=(
                f"worst of {len(outcomes)} seeds; minimum by max-flow bound "
                f"({bound_seconds * 1000:,.0f} ms): {bound.repeats}"
            ),
            unit="repeats",
            median=float(worst),
            target=f"= proven minimum ({bound.repeats})",
            met=worst <= bound.repeats and worst_same <= bound.same_direction,
            baseline_name="naive shuffled circle",
            baseline=float(naive_total),
            notes=(
                f"same-direction {worst_same} (minimum {bound.same_direction}); naive: "
                f"{naive_total:.0f} repeats of {bound.demand:,} reviews"
            ),
            extra={
                "demand": bound.demand,
                "bound_repeats": bound.repeats,
                "bound_same_direction": bound.same_direction,
                "bound_seconds": bound_seconds,
                "outcomes": outcomes,
                "naive_repeats": naive_repeats,
            },
        ),
    ]


def run(quick: bool) -> list[Result]:
    # The inputs are made inside, so collections walk them as they would in the bot.
    with frozen_heap():
        return measure(1_000, 10 if quick else 30) + measure(10_000, 3 if quick else 7)
