"""/faq ask right after a restart, with 1,000 entries: time to acknowledge.

A moderator imports 1,000 entries (the starter pack plus generated ones); the bot process is
stopped and started again on the same database, and the moment it is ready, 20 members ask at
once, while the new process loads the model and builds the index in the background. Measured:
from INTERACTION_CREATE to the bot's initial callback (an answer, or a deferral when the index
is still cold), over several restarts. Baseline: the same questions asked of the same process
once it has settled.
"""

from __future__ import annotations

import asyncio
import json

from benchmarks.faq_eval_report import load_pack, synthetic_docs
from benchmarks.framework import Result
from benchmarks.support import bot_process, scratch, summary
from discord_emulator import MANAGE_GUILD, Emulator, InteractionResult, Member, Upload

ENTRIES = 1_000
ASKERS = 20
TARGET_P99 = 1.0
SETTLE = 30.0  # seconds the baseline waits for the background work
QUESTIONS = (
    "how much does the meta back-end certificate cost",
    "how long does it take to finish",
    "can i get financial aid",
    "which programming language do they use",
    "how do i set my timezone",
)


def faq_file() -> bytes:
    entries = [
        {"question": d.question, "answer": d.answer, "aliases": list(d.aliases)}
        for d in synthetic_docs(ENTRIES, load_pack())
    ]
    return json.dumps({"version": 1, "entries": entries}).encode()


async def burst(members: list[Member]) -> tuple[list[float], int]:
    """Every member asks at once: ack latencies, and how many answers did not arrive."""
    results: list[InteractionResult] = await asyncio.gather(
        *(m.slash("faq ask", question=QUESTIONS[n % len(QUESTIONS)]) for n, m in enumerate(members))
    )
    lost = 0
    for result in results:
        if result.deferred:
            try:
                await result.wait_for_followup(timeout=30)
            except Exception:
                lost += 1
    return [r.ack_latency for r in results if r.ack_latency is not None], lost


async def measure(restarts: int) -> tuple[list[float], list[float], int]:
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    guild.add_text_channel("general")
    moderator = guild.add_member("Mia", permissions=MANAGE_GUILD)
    members = [guild.add_member(f"Learner {n}") for n in range(ASKERS)]
    cold: list[float] = []
    warm: list[float] = []
    lost = 0
    with scratch() as workdir:
        url = f"sqlite:///{workdir}/faq.sqlite3"
        async with emu.running(patch_discord=False):
            async with bot_process(emu, "cohort", workdir, database_url=url) as bot:
                await bot.wait_ready()
                await emu.wait_synced(timeout=30)
                imported = await moderator.slash("faq import", file=Upload("faq.json", faq_file()))
                await imported.wait_for_followup(timeout=120)
            for n in range(restarts):
                async with bot_process(emu, "cohort", workdir, database_url=url) as bot:
                    await bot.wait_ready()
                    acks, missing = await burst(members)
                    cold += acks
                    lost += missing
                    if n == restarts - 1:
                        await asyncio.sleep(SETTLE)
                        acks, missing = await burst(members)
                        warm += acks
                        lost += missing
    return cold, warm, lost


async def run(quick: bool) -> list[Result]:
    cold, warm, lost = await measure(2 if quick else 5)
    p50, p99, worst = summary(cold)
    b50, b99, _ = summary(warm)
    return [
        Result(
            benchmark="/faq ask ack after a restart",
            workload=(
                f"{ENTRIES:,} entries; {ASKERS} members ask the moment the new process is ready "
                f"({len(cold)} asks over {len(cold) // ASKERS} restarts)"
            ),
            unit="s",
            median=p50,
            p99=p99,
            target="p99 ≤ 1 s",
            met=p99 <= TARGET_P99 and not lost,
            baseline_name=f"same asks {SETTLE:g} s later",
            baseline=b99,
            ratio=b99 / p99 if p99 else None,
            notes=f"max {worst * 1000:.0f} ms; answers that never came: {lost}",
            extra={"max": worst, "baseline_p50": b50, "lost": lost},
        )
    ]
