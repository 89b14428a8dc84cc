"""Load: 200 members checking in within seconds, and 1,000 `/faq ask` in well under a
minute. Every interaction is acknowledged within 3 s; no write is lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from discord_emulator import InteractionResult, Member
from tests.e2e.conftest import StudyGroup
from tests.hardening.support import INCIDENT, assert_no_ping_escaped, leaves, query, sqlite_path

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def paced(
    calls: list[Callable[[], Awaitable[InteractionResult]]], per_second: float
) -> list[InteractionResult]:
    """Start one call every 1/per_second seconds; wait for all (each checks its own 3 s)."""

    async def later(delay: float, call: Callable[[], Awaitable[InteractionResult]]) -> Any:
        await asyncio.sleep(delay)
        return await call()

    return list(
        await asyncio.gather(*(later(i / per_second, call) for i, call in enumerate(calls)))
    )


async def test_200_members_check_in_within_seconds(group: StudyGroup) -> None:
    members = [group.guild.add_member(f"Learner {i}") for i in range(200)]
    database = sqlite_path(group.database_url)

    def checkin(member: Member, i: int) -> Callable[[], Awaitable[InteractionResult]]:
        return lambda: member.slash("checkin", hours=1 + i % 4, done=f"lesson {i}")

    first = await paced([checkin(m, i) for i, m in enumerate(members)], per_second=40)
    assert all(r.acknowledged and r.content.startswith("✅ Checked in") for r in first)
    # Everyone again at once: each updates their own day, nobody gets a second row.
    again = await asyncio.gather(*(m.slash("checkin", mood=4) for m in members))
    assert all(r.content.startswith("✅ Updated your check-in") for r in again)

    rows = query(database, "SELECT user_id, hours, done, mood, revision FROM checkins")
    assert len(rows) == len({user for user, *_ in rows}) == 200
    by_user = {user: rest for user, *rest in rows}
    for i, member in enumerate(members):
        assert by_user[member.id] == [1 + i % 4, f"lesson {i}", 4, 2], i
    assert_no_ping_escaped(group.emu)


MATCHED = "How long does the certificate take?"
UNMATCHED = [f"Which zebra lab number {k} needs the purple kazoo?" for k in range(5)]


async def test_a_thousand_faq_questions_in_under_a_minute(group: StudyGroup) -> None:
    if "faq ask" not in {leaf.path for leaf in leaves(group.emu)}:
        pytest.skip("/faq ask is not in the command tree")
    database = sqlite_path(group.database_url)
    added = await group.mia.slash(
        "faq add", question=MATCHED, answer="About seven to eight months at 5-7 hours a week."
    )
    assert added.ephemeral and INCIDENT not in added.text()
    members = [group.guild.add_member(f"Asker {i}") for i in range(100)]

    def ask(member: Member, question: str) -> Callable[[], Awaitable[InteractionResult]]:
        return lambda: member.slash("faq ask", question=question)

    calls = [ask(m, q) for m in members for q in [MATCHED] * 5 + UNMATCHED]
    results = await paced(calls, per_second=50)  # 1,000 in 20 s
    assert len(results) == 1000 and all(r.acknowledged for r in results)
    # A question not answered within 0.4 s is deferred and answered by a follow-up.
    replies = [
        (await r.wait_for_followup(timeout=30)) if r.deferred else r.original for r in results
    ]
    answered = [m for m in replies if m is not None and not m.ephemeral]
    queued = [m for m in replies if m is not None and m.ephemeral]
    assert len(answered) == 500 and len(queued) == 500
    assert all(INCIDENT not in r.text() for r in results)
    assert all(INCIDENT not in m.text() for m in answered + queued)

    # No lost increments, no duplicate items or askers.
    assert query(database, "SELECT usage_count FROM faq_entries") == [(500,)]
    items = query(database, "SELECT id, question, ask_count FROM faq_queue ORDER BY question")
    assert [(q, n) for _, q, n in items] == [(q, 100) for q in sorted(UNMATCHED)]
    askers = query(database, "SELECT item_id, count(*) FROM faq_queue_askers GROUP BY item_id")
    assert sorted(n for _, n in askers) == [100] * 5
    assert_no_ping_escaped(group.emu)
