"""Each process's share of Discord's global limit: processes holding disjoint shards stay under
50 requests a second together. Time is simulated (no timing assertions)."""

from __future__ import annotations

import pytest

from bot.domain.shards import Shards
from bot.rate_share import GLOBAL_PER_SECOND, RateShare, share_of


def test_shares_of_disjoint_shards_add_up_to_the_global_limit() -> None:
    deployment = [Shards(8, (0, 1, 2)), Shards(8, (3, 4, 5)), Shards(8, (6, 7))]
    shares = [share_of(s) for s in deployment]
    assert shares == pytest.approx([18.75, 18.75, 12.5])
    assert sum(s for s in shares if s is not None) == pytest.approx(GLOBAL_PER_SECOND)


def test_a_process_with_every_shard_leaves_pacing_to_discord_py() -> None:
    assert share_of(Shards(None, None)) is None
    assert share_of(Shards(4, None)) is None


class SimulatedTime:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("per_second", [25.0, 12.5, 0.5])
async def test_the_bucket_never_lets_more_than_its_rate_through(per_second: float) -> None:
    clock = SimulatedTime()
    bucket = RateShare(per_second, time=clock.time, sleep=clock.sleep)
    taken_at = []
    for _ in range(200):
        await bucket.take()
        taken_at.append(clock.now)
    burst = max(1.0, per_second)
    # Over any stretch, at most a second's burst plus the rate times its length went through.
    for i, start in enumerate(taken_at):
        for j in range(i, len(taken_at)):
            assert j - i + 1 <= burst + (taken_at[j] - start) * per_second + 1e-9
    # And it does not wait longer than it has to: the whole run takes its floor.
    assert clock.now == pytest.approx((200 - burst) / per_second)


async def test_time_passing_refills_the_bucket_up_to_one_seconds_burst() -> None:
    clock = SimulatedTime()
    bucket = RateShare(10.0, time=clock.time, sleep=clock.sleep)
    for _ in range(10):
        await bucket.take()
    assert clock.now == 0.0
    clock.now += 60.0  # idle for a minute: still only a second's worth at once
    for _ in range(11):
        await bucket.take()
    assert clock.now == pytest.approx(60.1)
