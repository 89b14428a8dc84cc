"""Peer-review pairing: who reviews which submission in a round.

Rules (README.md, Commands: /review), in priority order:

1. Every submission gets ``k = min(N, pool - 1)`` distinct reviewers, never its author. ``pool`` is
   the number of eligible reviewers (members who submitted this round and are not paused). A
   paused author's submission is reviewed like any other and also gets exactly ``k`` (not
   ``min(N, pool)``): every submission of a round is treated alike, and the spare capacity keeps
   loads even. A pool of 0 or 1 pairs nobody and says so (``POOL_TOO_SMALL``); ``k < N`` is
   reported as ``CAPPED_BY_POOL``.
2. Reviewer loads this round (assignments made earlier in the round included) differ by at most
   one. When earlier assignments make that impossible (a late submission, a re-run), new reviews
   go to the least-loaded reviewers (minimum sum of squared loads).
3. Repeat pairings are avoided. "R reviews A" is a *same-direction* repeat if R reviewed A
   before, a *reverse* repeat if only A reviewed R before. Pairs from earlier in the current
   round count as the most recent history. The objective is lexicographic: fewest
   same-direction repeats; then, among those, the oldest (compared from the most recent down:
   one repeat from last round is worse than any number from two rounds ago); then fewest
   reverse repeats; then the oldest of those. Both directions matter, but same-direction is
   worse: over ``n - 1`` rounds of ``n`` members there are only ``n(n-1)/2`` unordered pairs,
   so reverse repeats become unavoidable while same-direction ones do not.
4. Deterministic for a given seed: all randomness comes from ``random.Random(seed)``, inputs are
   sorted by id, and no set or hash order is iterated.

Model. With ``S`` submissions, ``P`` reviewers, ``D = S·k`` reviews and ``H`` history pairs this
is a b-matching, i.e. a flow: source → submission (capacity ``k``) → reviewer (capacity 1, not
the author) → sink. Balance is exact in the capacities (water-filling): each reviewer has ``m_r``
mandatory slots plus one optional slot drawn from a shared pool of ``rem`` slots (a hub node), so
full flows are exactly the balanced assignments.

Algorithm.

1. Index the history once into a dict keyed by (reviewer, author) → most recent age. ``O(H)``.
2. Base assignment from a random permutation of the reviewers: the submission of the reviewer at
   position ``i`` takes the reviewers at ``i+1 … i+k`` (circulant shifts: exact balance, no self
   review); submissions whose author is not in the pool take the next reviewers from a rolling
   pointer. ``O(P + D)``. Every base assignment that is a repeat is dropped: with 8 rounds × 2
   reviewers of history each member has ~32 partners, so about ``32·D/P`` ≈ 64 holes remain
   for 1,000 or 10,000 submissions.
3. The holes are refilled with repeat-free edges by augmenting paths: a direct fill from a
   reviewer with spare capacity, a sampled three-edge path (another submission hands over its
   reviewer and takes a spare one), and if both fail an exact BFS on the implicit, nearly
   complete residual graph. The BFS keeps a list of unvisited reviewers and scans it from each
   submission; every reviewer scanned is either visited (and leaves the list) or a non-edge of
   that submission (author, own reviewers, history partners), so one BFS is ``O(P + D + H)``, and
   a BFS that fails proves the flow maximum. (When step 4's exact solver applies, a round with
   many holes, or one needing more than a few BFS, goes straight to it: it also finds a
   repeat-free pairing when one exists, and does so faster on dense histories.)
4. If holes remain, repeats are forced. When ``S·P`` ≤ ``_EXACT_EDGES`` (about 500 members)
   the round is solved exactly: min-cost flow with integer costs layered so the sum is the
   lexicographic objective of rule 3, by the primal-dual method (Dijkstra with potentials, then a
   Dinic blocking flow over zero-reduced-cost edges), starting from the repeat-free partial flow
   (cost 0, hence optimal for its value). It runs on a sparse subgraph (each submission's
   ``4k + 8`` cheapest reviewers), then prices every left-out edge with the final potentials: no
   negative reduced cost proves optimality on the full graph; otherwise those edges are added
   and it runs again. Larger forced cases (which need more than about ``P / 2k`` rounds of history)
   raise the allowed repeat rank step by step, oldest reverse repeats first, reaching a maximum
   flow at each step: exact for "no same-direction repeat when possible", a bottleneck
   approximation for the rest.
5. If even that leaves holes, balance is impossible (earlier assignments, duplicate authors):
   min-cost flow with convex load costs (sum of squares), or least-loaded first when large.

Cost: ``O(H + P + D)`` plus a few BFS when a repeat-free pairing exists (the benchmark shapes:
1,000 and 10,000 submissions × 2 reviewers with 8 rounds of history), each BFS
``O(P + D + H)``. When repeats are forced: the exact solver (``S·P`` ≤ 250,000) runs at most
``D`` primal-dual phases, each a Dijkstra ``O(E log V)`` plus a blocking flow ``O(V·E)`` on
the sparse subgraph (``E ≈ S·(4k + 8)``, ``V = S + P``), and re-solves only when pricing finds
a left-out edge; the large-instance fallback does one maximum flow (at most ``D`` BFS) per
distinct history rank, of which there are at most ``2 · rounds``. ``assign_late`` and
``reassign`` are the same machinery on the few requests they carry. Memory is ``O(H + D + P)``.
The max-flow certificates are public as ``minimum_repeats_lower_bound``: a bound of 0 proves a
repeat-free pairing exists.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CAPPED_BY_POOL",
    "POOL_TOO_SMALL",
    "Assignment",
    "PairingResult",
    "PastPair",
    "RepeatBound",
    "Submission",
    "assign_late",
    "minimum_repeats_lower_bound",
    "pair_round",
    "reassign",
]

POOL_TOO_SMALL = "pool_too_small"  # some submission got fewer than k reviewers (or pool < 2)
CAPPED_BY_POOL = "capped_by_pool"  # everyone got k, but k < N because the pool is small

# A history rank packs (tier, recency) into one int: higher = worse. Ages beyond the cap tie.
_AGE_BITS = 20
_AGE_CAP = (1 << _AGE_BITS) - 1
_REVERSE = 1
_SAME = 2
_SAME_TOP = (_SAME << _AGE_BITS) | _AGE_CAP
_REVERSE_TOP = (_REVERSE << _AGE_BITS) | _AGE_CAP
_NO_LIMIT = 1 << 62

# Exact min-cost flow when repeats are forced and S·P is at most this.
_EXACT_EDGES = 250_000
# Exact phase: first solved over each request's cheapest 4·k + 8 reviewers, then priced.
_SPARSE_PER_REVIEW = 4
_SPARSE_EXTRA = 8
# Augmenting BFS runs allowed before handing a repeat-forced round to the exact solver.
_CLEAN_BFS_BUDGET = 8
# Random swap attempts per hole before falling back to the exact BFS.
_SWAP_TRIALS = 24


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class PastPair:
    """``reviewer_id`` reviewed ``author_id`` ``rounds_ago`` rounds ago (1 = last round)."""

    reviewer_id: int
    author_id: int
    rounds_ago: int

    def __post_init__(self) -> None:
        if self.rounds_ago < 1:
            raise ValueError("rounds_ago must be at least 1 (1 = the previous round)")


@dataclass(frozen=True, slots=True)
class Assignment:
    submission_id: int
    reviewer_id: int


@dataclass(frozen=True, slots=True)
class PairingResult:
    """New assignments of one call, sorted by (submission, reviewer).

    ``reviewers_per_submission`` is ``k`` (``reassign``: 1 per pending review). ``repeats``
    counts same-direction repeats among the new assignments, ``reverse_repeats`` reverse-only
    ones (pairs of the current round count as history). ``unpaired_submission_ids`` got fewer
    reviewers than asked, because the pool is too small for them.
    """

    assignments: tuple[Assignment, ...]
    reviewers_per_submission: int
    repeats: int = 0
    reverse_repeats: int = 0
    unpaired_submission_ids: tuple[int, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RepeatBound:
    """Lower bounds on repeats over all assignments that keep the load rule (max flow proofs).

    ``repeats`` (any direction) = demand − max flow over repeat-free edges; ``same_direction``
    = demand − max flow over edges that are not same-direction repeats. ``balanced`` is False
    when no assignment keeps loads within one at all (the bounds then do not apply).
    """

    demand: int
    repeats: int
    same_direction: int
    balanced: bool


def pair_round(
    submissions: Iterable[Submission],
    reviewers: Iterable[int],
    per_submission: int,
    history: Iterable[PastPair] = (),
    seed: int = 0,
    already_assigned: Iterable[Assignment] = (),
) -> PairingResult:
    """Pair a round: every submission with fewer than ``k`` reviewers is topped up to ``k``.

    ``submissions`` are all of this round's submissions (so authors of ``already_assigned``
    are known); ``already_assigned`` are kept and count toward loads, so running it again
    pairs only new submissions.
    """
    subs, pool, k, current = _round(submissions, reviewers, per_submission, already_assigned)
    result = _pair(pool, _short(subs, k, current), subs, current, history, seed, k)
    if result.reason is None and k < per_submission and subs:
        return _with_reason(result, CAPPED_BY_POOL)
    return result


def assign_late(
    submission: Submission,
    round_submissions: Iterable[Submission],
    reviewers: Iterable[int],
    per_submission: int,
    history: Iterable[PastPair],
    current_assignments: Iterable[Assignment],
    seed: int = 0,
) -> PairingResult:
    """Give one submission that arrived after pairing its ``k`` reviewers, least-loaded first.

    Nothing already assigned moves. Among the least-loaded reviewers, repeats (history and this
    round's pairs) are avoided as in ``pair_round``.
    """
    subs, pool, k, current = _round(
        round_submissions, reviewers, per_submission, current_assignments
    )
    subs[submission.id] = submission
    wanted = _short({submission.id: submission}, k, current)
    return _pair(pool, wanted, subs, current, history, seed, k)


def reassign(
    pending: Iterable[Assignment],
    round_submissions: Iterable[Submission],
    reviewers: Iterable[int],
    history: Iterable[PastPair],
    current_assignments: Iterable[Assignment],
    seed: int = 0,
) -> PairingResult:
    """Move ``pending`` reviews (of a reviewer who left or paused) to other reviewers.

    Each pending review gets one replacement who is not the author and not already on that
    submission (done reviews included); loads (this round's remaining assignments) stay as
    even as possible and repeats are avoided as in ``pair_round``. The leaving reviewers are
    removed from the pool.
    """
    moving = list(dict.fromkeys(pending))
    leaving = {a.reviewer_id for a in moving}
    pool = sorted(set(reviewers) - leaving)
    subs = _by_id(round_submissions)
    current = list(current_assignments)
    moving_set = set(moving)
    kept = [a for a in current if a not in moving_set]
    everyone = _reviewers_by_submission([*current, *moving])
    need: dict[int, int] = {}
    for a in moving:
        if a.submission_id not in subs:
            raise ValueError(f"pending review of unknown submission {a.submission_id}")
        need[a.submission_id] = need.get(a.submission_id, 0) + 1
    wanted = [(subs[sid], n, everyone[sid]) for sid, n in sorted(need.items())]
    return _pair(pool, wanted, subs, kept, history, seed, 1)


def minimum_repeats_lower_bound(
    submissions: Iterable[Submission],
    reviewers: Iterable[int],
    per_submission: int,
    history: Iterable[PastPair] = (),
    already_assigned: Iterable[Assignment] = (),
) -> RepeatBound:
    """How many repeats any load-balanced pairing of this round must contain, at least.

    Computed by max flow (the same network as ``pair_round``, restricted to repeat-free edges,
    then to edges that are not same-direction repeats). A bound of 0 proves that a repeat-free
    assignment exists, so ``pair_round`` must (and does) return one.
    """
    subs, pool, k, current = _round(submissions, reviewers, per_submission, already_assigned)
    wanted = [w for w in _short(subs, k, current) if w[1] > 0]
    solver = _build(pool, wanted, subs, current, history, 0)
    if solver is None:
        return RepeatBound(0, 0, 0, True)
    solver.base()
    solver.fill(0)
    free = solver.short_total()
    solver.fill(_REVERSE_TOP)
    no_same = solver.short_total()
    solver.fill(_NO_LIMIT)
    infeasible = solver.short_total()
    return RepeatBound(
        demand=solver.demand,
        repeats=free - infeasible,
        same_direction=no_same - infeasible,
        balanced=infeasible == 0,
    )


# --- plumbing -------------------------------------------------------------------------------

_Wanted = tuple[Submission, int, tuple[int, ...]]


def _cap(per_submission: int, pool_size: int) -> int:
    if per_submission < 1:
        raise ValueError("per_submission must be at least 1")
    return max(0, min(per_submission, pool_size - 1))


def _round(
    submissions: Iterable[Submission],
    reviewers: Iterable[int],
    per_submission: int,
    assigned: Iterable[Assignment],
) -> tuple[dict[int, Submission], list[int], int, list[Assignment]]:
    """The round's submissions by id, the reviewer pool, ``k`` as the pool allows, and the
    assignments it keeps."""
    pool = sorted(set(reviewers))
    return _by_id(submissions), pool, _cap(per_submission, len(pool)), list(assigned)


def _short(subs: dict[int, Submission], k: int, current: list[Assignment]) -> list[_Wanted]:
    """Each submission with fewer than ``k`` reviewers: how many more it needs, and whom it has.
    With ``k`` = 0 (a pool too small) every submission without a reviewer is listed, needing 0."""
    existing = _reviewers_by_submission(current)
    return [
        (s, k - len(existing.get(s.id, ())), existing.get(s.id, ()))
        for s in subs.values()
        if len(existing.get(s.id, ())) < max(k, 1)
    ]


def _by_id(submissions: Iterable[Submission]) -> dict[int, Submission]:
    out: dict[int, Submission] = {}
    for s in sorted(submissions, key=lambda s: s.id):
        if s.id in out and out[s.id] != s:
            raise ValueError(f"submission {s.id} given twice with different authors")
        out[s.id] = s
    return out


def _reviewers_by_submission(assignments: Iterable[Assignment]) -> dict[int, tuple[int, ...]]:
    grouped: dict[int, dict[int, None]] = {}
    for a in assignments:
        grouped.setdefault(a.submission_id, {})[a.reviewer_id] = None
    return {sid: tuple(rs) for sid, rs in grouped.items()}


def _with_reason(result: PairingResult, reason: str) -> PairingResult:
    return PairingResult(
        result.assignments,
        result.reviewers_per_submission,
        result.repeats,
        result.reverse_repeats,
        result.unpaired_submission_ids,
        reason,
    )


def _pair(
    pool: list[int],
    wanted: list[_Wanted],
    subs: dict[int, Submission],
    current: list[Assignment],
    history: Iterable[PastPair],
    seed: int,
    k: int,
) -> PairingResult:
    if not pool or k == 0:
        unpaired = tuple(s.id for s, _, _ in wanted)
        return PairingResult(
            (), k, unpaired_submission_ids=unpaired, reason=POOL_TOO_SMALL if unpaired else None
        )
    solver = _build(pool, [w for w in wanted if w[1] > 0], subs, current, history, seed)
    if solver is None:
        return PairingResult((), k)
    solver.solve()
    return solver.result(k)


def _build(
    pool: list[int],
    wanted: list[_Wanted],
    subs: dict[int, Submission],
    current: list[Assignment],
    history: Iterable[PastPair],
    seed: int,
) -> _Solver | None:
    if not pool or not wanted:
        return None
    # Members as small ints: the pool first (reviewer r is member r), then other authors.
    index = {r: i for i, r in enumerate(pool)}
    for s, _, _ in wanted:
        index.setdefault(s.author_id, len(index))
    for s in subs.values():
        index.setdefault(s.author_id, len(index))
    size = len(index)
    # ages[reviewer * size + author] = rounds since reviewer last reviewed author (0 = now).
    ages: dict[int, int] = {}
    get = index.get
    # The hot loop for large histories (160,000 pairs in the benchmark): kept lean on purpose.
    for p in history:
        i = get(p.reviewer_id)
        if i is None:
            continue
        a = get(p.author_id)
        if a is None or a == i:
            continue
        key = i * size + a
        old = ages.get(key)
        age = p.rounds_ago
        if old is None or age < old:
            ages[key] = age if age < _AGE_CAP else _AGE_CAP
    loads = [0] * len(pool)
    for c in current:
        r = get(c.reviewer_id, -1)
        if 0 <= r < len(pool):
            loads[r] += 1
        sub = subs.get(c.submission_id)
        if sub is not None and r >= 0 and index[sub.author_id] != r:
            ages[r * size + index[sub.author_id]] = 0  # this round: the most recent of all
    return _Solver(pool, index, wanted, ages, loads, random.Random(seed))


class _Solver:
    """Mutable working state for one pairing; reviewers and requests are small ints."""

    def __init__(
        self,
        pool: list[int],
        index: dict[int, int],
        wanted: list[_Wanted],
        ages: dict[int, int],
        base_load: list[int],
        rng: random.Random,
    ) -> None:
        self.pool = pool
        self.rng = rng
        self.base_load = base_load
        n = len(pool)
        self.n = n
        nothing: frozenset[int] = frozenset()
        self.sub_ids = [s.id for s, _, _ in wanted]
        self.members = len(index)
        self.ages = ages
        self.author_m = [index[s.author_id] for s, _, _ in wanted]
        # The request's author as a reviewer (their seat in the pool), or -1 when not in it.
        self.author_seat = [a if a < n else -1 for a in self.author_m]
        self.need = [need for _, need, _ in wanted]
        fixed = [
            frozenset(index[r] for r in have if r in index) if have else nothing
            for _, _, have in wanted
        ]
        # Who may never review request j: its author and the reviewers it already had.
        self.barred = [
            had | {seat} if seat >= 0 else had
            for seat, had in zip(self.author_seat, fixed, strict=True)
        ]
        self.demand = sum(self.need)
        self.assigned: list[list[int]] = [[] for _ in wanted]
        self.subs_of: list[list[int]] = [[] for _ in pool]
        self.load = [0] * n
        self.perm = list(range(n))
        rng.shuffle(self.perm)
        self.pos = [0] * n
        for i, r in enumerate(self.perm):
            self.pos[r] = i
        # New reviews each reviewer must take, whether it may take one more (1/0), and how many
        # of those optional slots the demand needs.
        self.quota, self.optional, self.optional_needed = _water_fill(base_load, self.demand)
        self.over = 0  # reviewers using their optional slot
        self.below: dict[int, None] = {}  # load < m
        self.at_m: dict[int, None] = {}  # load == m, optional slot free
        self.at_x: dict[int, None] = {}  # load == m + 1 (optional slot used)
        self.short: dict[int, None] = {}  # requests still missing reviewers

    # -- state changes ---------------------------------------------------------------------

    def _rank(self, j: int, r: int) -> int:
        """How bad "r reviews j" is as a repeat: 0 = new pair; higher = worse."""
        a, size = self.author_m[j], self.members
        age = self.ages.get(r * size + a)
        if age is not None:
            return _SAME_TOP - age
        age = self.ages.get(a * size + r)
        if age is not None:
            return _REVERSE_TOP - age
        return 0

    def _may_review(self, j: int, r: int, limit: int) -> bool:
        """Who may review whom: never the author nor a reviewer the request has (from before
        or now), and a repeat only when its rank is within ``limit``. The BFS and the exact
        solver's candidate lists test the same `barred` sets inline, for speed."""
        return (
            r not in self.barred[j]
            and r not in self.assigned[j]
            and (limit >= _NO_LIMIT or self._rank(j, r) <= limit)
        )

    def _has_room(self, r: int) -> bool:
        load, m = self.load[r], self.quota[r]
        return load < m or (
            load == m and self.optional[r] == 1 and self.over < self.optional_needed
        )

    def _classify(self, r: int) -> None:
        self.below.pop(r, None)
        self.at_m.pop(r, None)
        self.at_x.pop(r, None)
        load, m = self.load[r], self.quota[r]
        if load < m:
            self.below[r] = None
        elif self.optional[r]:
            if load == m:
                self.at_m[r] = None
            elif load == m + 1:
                self.at_x[r] = None

    def _add(self, j: int, r: int, track: bool = True) -> None:
        self.assigned[j].append(r)
        self.subs_of[r].append(j)
        self.load[r] += 1
        if self.load[r] == self.quota[r] + 1 and self.optional[r]:
            self.over += 1
        if track:
            self._classify(r)
            if len(self.assigned[j]) >= self.need[j]:
                self.short.pop(j, None)

    def _remove(self, j: int, r: int) -> None:
        self.assigned[j].remove(r)
        self.subs_of[r].remove(j)
        if self.load[r] == self.quota[r] + 1 and self.optional[r]:
            self.over -= 1
        self.load[r] -= 1
        self._classify(r)
        if len(self.assigned[j]) < self.need[j]:
            self.short[j] = None

    def _missing(self) -> dict[int, None]:
        """Requests still short of reviewers, in order."""
        return {j: None for j, need in enumerate(self.need) if len(self.assigned[j]) < need}

    def short_total(self) -> int:
        return sum(self.need[j] - len(self.assigned[j]) for j in self.short)

    # -- phases ----------------------------------------------------------------------------

    def solve(self) -> None:
        self.base()
        exact = len(self.need) * self.n <= _EXACT_EDGES
        # With a dense history the cheap repairs rarely succeed and each BFS scans most edges;
        # the exact solver handles that case better, starting from any repeat-free partial flow.
        if not exact or self.short_total() <= self.demand // 8 + 16:
            self.fill(0, None if not exact else _CLEAN_BFS_BUDGET)
        if not self.short:
            return
        if exact:
            self.min_cost()
            if self.short:  # balance is impossible (earlier assignments, duplicate authors)
                self.min_cost_convex()
            return
        seen_ages = set(self.ages.values())
        limits = sorted({top - age for age in seen_ages for top in (_SAME_TOP, _REVERSE_TOP)})
        for limit in limits:
            self.fill(limit)
            if not self.short:
                return
        self.overflow()

    def base(self) -> None:
        """Circulant shifts over a random permutation, then drop the repeats."""
        perm, pos = self.perm, self.pos
        first: list[int] = []
        rest: list[int] = []
        seen: set[int] = set()
        for j, a in enumerate(self.author_seat):
            if a >= 0 and a not in seen:
                seen.add(a)
                first.append(j)
            else:
                rest.append(j)
        first.sort(key=lambda j: pos[self.author_seat[j]])
        for j in first:
            self._take(j, pos[self.author_seat[j]] + 1)
        pointer = 0
        for j in rest:
            pointer = self._take(j, pointer)
        if self.ages:
            for j, mine in enumerate(self.assigned):
                for r in [r for r in mine if self._rank(j, r) > 0]:
                    self._remove(j, r)
        for r in perm:
            self._classify(r)
        self.short = self._missing()

    def _take(self, j: int, start: int) -> int:
        """Give ``j`` the next reviewers with room from ``perm[start]`` on; return where it stopped.

        The scan is short on purpose: what it leaves out, the augmenting phase fills.
        """
        n, perm, mine, need = self.n, self.perm, self.assigned[j], self.need[j]
        i, end = start, start + min(n, 2 * need + 8)
        while i < end and len(mine) < need:
            r = perm[i % n]
            i += 1
            if self._has_room(r) and self._may_review(j, r, _NO_LIMIT):
                self._add(j, r, track=False)
        return i % n

    def fill(self, limit: int, bfs_budget: int | None = None) -> None:
        """Augment to a maximum flow over edges whose rank is at most ``limit``.

        With a ``bfs_budget`` it may stop early (the flow is then valid but not maximum).
        """
        while self.short:
            for j in list(self.short):
                while j in self.short and (self._direct(j, limit) or self._swap(j, limit)):
                    pass
            if not self.short or bfs_budget == 0 or not self._bfs(limit):
                return
            if bfs_budget is not None:
                bfs_budget -= 1

    def _spare(self, j: int, limit: int) -> int:
        """A reviewer with free capacity that ``j`` may take, or -1."""
        for r in self.below:
            if self._may_review(j, r, limit):
                return r
        if self.over < self.optional_needed:
            for r in self.at_m:
                if self._may_review(j, r, limit):
                    return r
        return -1

    def _direct(self, j: int, limit: int) -> bool:
        r = self._spare(j, limit)
        if r < 0:
            return False
        self._add(j, r)
        return True

    def _swap(self, j: int, limit: int) -> bool:
        """Path of three edges: j takes r2 from j2, j2 takes a spare reviewer."""
        count = len(self.need)
        for _ in range(_SWAP_TRIALS):
            j2 = self.rng.randrange(count)
            mine = self.assigned[j2]
            if not mine:
                continue
            r2 = mine[self.rng.randrange(len(mine))]
            if not self._may_review(j, r2, limit):
                continue
            spare = self._spare(j2, limit)
            if spare < 0:
                continue
            self._remove(j2, r2)
            self._add(j, r2)
            self._add(j2, spare)
            return True
        return False

    def _bfs(self, limit: int) -> bool:
        """One augmenting path from any short request, by BFS on the implicit residual graph."""
        n = self.n
        barred, assigned, subs_of = self.barred, self.assigned, self.subs_of
        ages, size, author_m = self.ages, self.members, self.author_m
        seen_r = bytearray(n)
        seen_j = bytearray(len(self.need))
        parent_r = [-1] * n  # request that reached r, or -2 - r_from after a hop through X
        parent_j = [-1] * len(self.need)  # reviewer whose assignment j gives up; -1 = source
        queue: list[int] = []  # j >= 0 is a request, ~r a reviewer
        for j in self.short:
            seen_j[j] = 1
            queue.append(j)
        unvisited = list(self.perm)
        x_done = False
        head = 0
        while head < len(queue):
            node = queue[head]
            head += 1
            if node >= 0:
                j = node
                never, mine, am = barred[j], assigned[j], author_m[j]
                keep: list[int] = []
                for r in unvisited:
                    if seen_r[r]:
                        continue
                    if (
                        r in never
                        or r in mine
                        or (
                            (r * size + am in ages or am * size + r in ages)
                            and (limit == 0 or self._rank(j, r) > limit)
                        )
                    ):
                        keep.append(r)  # a non-edge of j: charged to j, not to the scan
                        continue
                    seen_r[r] = 1
                    parent_r[r] = j
                    if self._has_room(r):
                        self._augment(r, parent_r, parent_j)
                        return True
                    queue.append(~r)
                unvisited = keep
            else:
                r = ~node
                if not x_done and self.optional[r] and self.load[r] == self.quota[r]:
                    # r could take its optional slot if someone holding one gives it up.
                    x_done = True
                    for r2 in self.at_x:
                        if not seen_r[r2]:
                            seen_r[r2] = 1
                            parent_r[r2] = -2 - r
                            queue.append(~r2)
                for j2 in subs_of[r]:
                    if not seen_j[j2]:
                        seen_j[j2] = 1
                        parent_j[j2] = r
                        queue.append(j2)
        return False

    def _augment(self, r: int, parent_r: list[int], parent_j: list[int]) -> None:
        while True:
            p = parent_r[r]
            if p <= -2:
                r = -2 - p
                continue
            prev = parent_j[p]
            self._add(p, r)
            if prev < 0:
                return
            self._remove(p, prev)
            r = prev

    def overflow(self) -> None:
        """Balance is impossible: give what is missing to the least-loaded valid reviewers."""
        for j in list(self.short):
            while len(self.assigned[j]) < self.need[j]:
                options = [r for r in self.perm if self._may_review(j, r, _NO_LIMIT)]
                if not options:
                    break
                best = min(
                    options,
                    key=lambda r: (self.base_load[r] + self.load[r], self._rank(j, r), self.pos[r]),
                )
                self._add(j, best, track=False)
        self.short = self._missing()

    def _candidates(self) -> list[list[tuple[int, int]]]:
        """Every allowed (reviewer, rank) per request, reviewers in seeded order."""
        ages, size, perm = self.ages, self.members, self.perm
        out: list[list[tuple[int, int]]] = []
        for a, never in zip(self.author_m, self.barred, strict=True):
            row: list[tuple[int, int]] = []
            for r in perm:
                if r in never:
                    continue
                age = ages.get(r * size + a)
                if age is not None:
                    row.append((r, _SAME_TOP - age))
                    continue
                age = ages.get(a * size + r)
                row.append((r, 0 if age is None else _REVERSE_TOP - age))
            out.append(row)
        return out

    def min_cost(self) -> None:
        """Exact: min-cost balanced assignment, continuing from the current repeat-free flow.

        The current flow uses only cost-0 edges, so it is a min-cost flow of its value and zero
        potentials are feasible: successive shortest paths may start from it. The network is
        solved on a sparse subset of the edges (each request's current reviewers and its
        cheapest others), then every left-out edge is priced with the final potentials: if none
        has a negative reduced cost the flow is optimal for the full graph (no negative cycle),
        otherwise the offending edges join and the flow is solved again.
        """
        count, n, pos = len(self.need), self.n, self.pos
        candidates = self._candidates()
        recency = {v & _AGE_CAP for row in candidates for _, v in row if v}
        _, cost_of = _weights(self.demand, recency)
        costs = [[(r, cost_of[v] if v else 0) for r, v in row] for row in candidates]
        width = _SPARSE_PER_REVIEW * max(self.need) + _SPARSE_EXTRA
        chosen: list[dict[int, int]] = []
        for j, row in enumerate(costs):
            # Cheapest first; ties by distance after the author in the permutation, which
            # spreads the requests over the reviewers like the circulant base does.
            start = pos[self.author_seat[j]] + 1 if self.author_seat[j] >= 0 else j
            ranked = heapq.nsmallest(width, row, key=lambda rc: (rc[1], (pos[rc[0]] - start) % n))
            picked = dict(ranked)
            for r in self.assigned[j]:
                picked[r] = 0
            chosen.append(picked)
        want = self.short_total()
        src, sink, hub = 0, 1, 2
        first_r = 3 + count
        while True:
            flow = _MinCostFlow(first_r + n)
            for j, picked in enumerate(chosen):
                mine = self.assigned[j]
                flow.edge(src, 3 + j, self.need[j], 0, len(mine))
                for r, c in picked.items():
                    flow.edge(3 + j, first_r + pos[r], 1, c, int(r in mine))
            for r in self.perm:
                load, m = self.load[r], self.quota[r]
                flow.edge(first_r + pos[r], sink, m, 0, min(load, m))
                if self.optional[r]:
                    flow.edge(first_r + pos[r], hub, 1, 0, load - m if load > m else 0)
            flow.edge(hub, sink, self.optional_needed, 0, self.over)
            sent = flow.run(src, sink, want)
            added = False
            if sent < want:
                # Maybe only the subset is too thin: retry once with every edge.
                for j, row in enumerate(costs):
                    if len(chosen[j]) < len(row):
                        chosen[j] = dict(row)
                        added = True
            else:
                h = flow.potential
                for j, row in enumerate(costs):
                    picked, hj = chosen[j], h[3 + j]
                    for r, c in row:
                        if c + hj - h[first_r + pos[r]] < 0 and r not in picked:
                            picked[r] = c
                            added = True
            if not added:
                break
        self._adopt(flow, 3, first_r)

    def min_cost_convex(self) -> None:
        """Exact when balance is impossible: loads by sum of squares (convex), from scratch."""
        count = len(self.need)
        candidates = self._candidates()
        w_load, cost_of = _weights(
            self.demand, {v & _AGE_CAP for row in candidates for _, v in row if v}
        )
        src, sink = 0, 1
        first_r = 2 + count
        flow = _MinCostFlow(first_r + self.n)
        takers = [0] * self.n
        for j, row in enumerate(candidates):
            flow.edge(src, 2 + j, self.need[j], 0)
            for r, v in row:
                flow.edge(2 + j, first_r + self.pos[r], 1, cost_of[v] if v else 0)
                takers[r] += 1
        for r in self.perm:
            e = self.base_load[r]
            for t in range(1, takers[r] + 1):  # the t-th new review raises Σ load² by 2(e+t)−1
                flow.edge(first_r + self.pos[r], sink, 1, w_load * (2 * (e + t) - 1))
        flow.run(src, sink, self.demand)
        self._adopt(flow, 2, first_r)

    def _adopt(self, flow: _MinCostFlow, first_j: int, first_r: int) -> None:
        """Take the assignment from a solved flow network (request and reviewer node offsets)."""
        count = len(self.need)
        self.assigned = [[] for _ in range(count)]
        self.subs_of = [[] for _ in range(self.n)]
        self.load = [0] * self.n
        self.over = 0
        for j in range(count):
            for v in flow.used_targets(first_j + j):
                if v >= first_r:
                    self._add(j, self.perm[v - first_r], track=False)
        self.short = {j: None for j in range(count) if len(self.assigned[j]) < self.need[j]}

    def result(self, k: int) -> PairingResult:
        out: list[Assignment] = []
        same = reverse = 0
        for j, mine in enumerate(self.assigned):
            for r in mine:
                out.append(Assignment(self.sub_ids[j], self.pool[r]))
                tier = self._rank(j, r) >> _AGE_BITS
                same += tier == _SAME
                reverse += tier == _REVERSE
        out.sort(key=lambda a: (a.submission_id, a.reviewer_id))
        unpaired = tuple(sorted(self.sub_ids[j] for j in self.short))
        return PairingResult(
            tuple(out), k, same, reverse, unpaired, POOL_TOO_SMALL if unpaired else None
        )


class _MinCostFlow:
    """Min-cost flow by the primal-dual method.

    Each phase runs Dijkstra on reduced costs (potentials keep them non-negative), then pushes a
    blocking flow (Dinic, iterative) through the edges whose reduced cost is zero, so one
    Dijkstra serves every shortest path of the same length. Requires non-negative reduced
    costs for zero potentials in the initial residual graph.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []
        self.adj: list[list[int]] = [[] for _ in range(size)]
        self.potential: list[int] = [0] * size  # feasible duals after run()

    def edge(self, u: int, v: int, capacity: int, cost: int, flow: int = 0) -> None:
        self.adj[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(capacity - flow)
        self.cost.append(cost)
        self.adj[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(flow)
        self.cost.append(-cost)

    def used_targets(self, u: int) -> list[int]:
        """Heads of the forward edges out of ``u`` that carry flow (unit edges)."""
        return [self.to[e] for e in self.adj[u] if e % 2 == 0 and self.cap[e + 1] > 0]

    def run(self, src: int, sink: int, want: int) -> int:
        to, cap, cost, adj, size = self.to, self.cap, self.cost, self.adj, self.size
        potential = self.potential = [0] * size
        sent = 0
        while sent < want:
            # Dijkstra, stopped once the sink is settled; unsettled nodes are capped at the
            # sink's distance, which keeps every reduced cost non-negative.
            dist: list[int | None] = [None] * size
            dist[src] = 0
            done = bytearray(size)
            heap = [(0, src)]
            reach = None
            while heap:
                d, u = heapq.heappop(heap)
                if done[u]:
                    continue
                done[u] = 1
                if u == sink:
                    reach = d
                    break
                pu = potential[u]
                for e in adj[u]:
                    if cap[e] > 0:
                        v = to[e]
                        if done[v]:
                            continue
                        nd = d + cost[e] + pu - potential[v]
                        old = dist[v]
                        if old is None or nd < old:
                            dist[v] = nd
                            heapq.heappush(heap, (nd, v))
            if reach is None:
                return sent
            for v in range(size):
                dv = dist[v]
                potential[v] += reach if dv is None or not done[v] or dv > reach else dv
            sent += self._blocking_flow(src, sink, potential, want - sent)
        return sent

    def _blocking_flow(self, src: int, sink: int, potential: list[int], want: int) -> int:
        """Dinic on the zero-reduced-cost residual edges until no such path is left."""
        to, cap, cost, size = self.to, self.cap, self.cost, self.size
        # Zero reduced cost is fixed for the phase (and holds for reverse edges too), so the
        # big-integer arithmetic is done once per edge, not once per visit.
        admissible = [
            [e for e in edges if cost[e] + pu - potential[to[e]] == 0]
            for edges, pu in zip(self.adj, potential, strict=True)
        ]
        sent = 0
        while sent < want:
            level = [-1] * size
            level[src] = 0
            queue = [src]
            for u in queue:
                for e in admissible[u]:
                    v = to[e]
                    if cap[e] > 0 and level[v] < 0:
                        level[v] = level[u] + 1
                        queue.append(v)
            if level[sink] < 0:
                return sent
            arc = [0] * size
            while sent < want:
                path: list[int] = []
                u = src
                while u != sink:
                    edges = admissible[u]
                    i = arc[u]
                    while i < len(edges):
                        e = edges[i]
                        if cap[e] > 0 and level[to[e]] == level[u] + 1:
                            break
                        i += 1
                    arc[u] = i
                    if i < len(edges):
                        path.append(edges[i])
                        u = to[edges[i]]
                    elif u == src:
                        break
                    else:
                        level[u] = -1  # dead end for this phase
                        u = to[path.pop() ^ 1]
                        arc[u] += 1
                if u != sink:
                    break
                push = min(want - sent, *(cap[e] for e in path))
                for e in path:
                    cap[e] -= push
                    cap[e ^ 1] += push
                sent += push
        return sent


def _weights(demand: int, recency: set[int]) -> tuple[int, dict[int, int]]:
    """Integer costs that make the min-cost flow objective lexicographic.

    In order: loads (sum of squares, so balanced whenever possible), the number of
    same-direction repeats, their recency, the number of reverse repeats, their recency.
    Recency compares repeat ages from the most recent down: one repeat from last round costs
    more than any number from two rounds ago. Each layer is a power of ``demand + 1`` above
    the one below, so no sum of cheaper layers can outweigh one unit of a dearer one.
    Returns the load unit and the cost of each history rank.
    """
    base = demand + 1
    steps = sorted(recency)  # low bits of the rank: larger = more recent
    u = len(steps)
    reverse_unit = base**u
    same_unit = base ** (2 * u + 1)
    cost_of: dict[int, int] = {}
    for i, low in enumerate(steps):
        cost_of[(_REVERSE << _AGE_BITS) | low] = reverse_unit + base**i
        cost_of[(_SAME << _AGE_BITS) | low] = same_unit + base ** (u + 1 + i)
    return base ** (2 * u + 2), cost_of


def _water_fill(base: list[int], demand: int) -> tuple[list[int], list[int], int]:
    """Target loads: the highest level L with Σ max(0, L − base) ≤ demand; the rest at L + 1.

    Returns mandatory new reviews per reviewer, whether it may take one more, and how many of
    those optional slots are needed.
    """
    ordered = sorted(base)
    level, below, used = ordered[0], 0, 0  # `below` reviewers sit at `level`, using `used`
    for i, b in enumerate([*ordered[1:], None]):
        below = i + 1
        # Raise the lowest `below` reviewers as far as the demand (or the next reviewer) allows.
        reach = level + (demand - used) // below
        if b is not None and reach >= b:
            used += (b - level) * below
            level = b
            continue
        level = reach
        break
    mandatory = [max(0, level - b) for b in base]
    optional = [1 if b <= level else 0 for b in base]
    return mandatory, optional, demand - sum(mandatory)
