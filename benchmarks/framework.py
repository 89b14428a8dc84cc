"""What every benchmark reports, and how it is timed.

Machines are shared and noisy: each benchmark warms up, repeats, reports medians and p99s, and
carries its claim as a ratio to a baseline measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    benchmark: str
    workload: str
    unit: str
    median: float
    p99: float | None = None
    target: str = ""
    met: bool | None = None
    baseline_name: str = ""
    baseline: float | None = None
    # How many times better than the baseline (>1 is faster / higher throughput).
    ratio: float | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty sample")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def repeat(fn: Callable[[], object], *, warmup: int, repeats: int) -> list[float]:
    """Wall-clock seconds of `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


async def repeat_async(
    fn: Callable[[], Awaitable[object]], *, warmup: int, repeats: int
) -> list[float]:
    for _ in range(warmup):
        await fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
