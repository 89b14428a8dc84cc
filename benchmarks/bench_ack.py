"""Interaction acknowledgement through the emulator: 50 members using the bot at once.

Time from the emulator sending INTERACTION_CREATE to the bot's initial callback arriving (the
moment Discord would stop showing "thinking"), with the bot in its own process. Each simulated
member runs a command, waits for the answer, thinks for a moment and runs the next one; the
commands rotate over the workload's mix. When the bot has /faq ask, a moderator imports the
starter pack first (/faq import), so questions find answers. The baseline is a bare discord.py
bot answering /ping through the same emulator, under the same load.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.botproc import sample_lag
from benchmarks.framework import Result
from benchmarks.support import bot_process, frozen_heap, scratch, summary
from discord_emulator import MANAGE_GUILD, Emulator, InteractionNotAcknowledged, Member

CONCURRENT = 50
# Each concurrent member stands for this many guild members in turn, so nobody reaches the
# ten-goals-a-week limit however long the run (that path answers an error instead).
ROTATION = 20
# Seconds between a member's answer and their next command: about as fast as a person can pick
# a slash command and fill in its options. The flat-out phase (no thinking) shows capacity.
THINK = (1.0, 3.0)
TARGET_P99 = 0.100
FAQ_QUESTIONS = (
    "how much does the certificate cost",
    "how long does it take to finish the course",
    "how does peer review grading work",
    "can I get financial aid",
    "what programming language is used",
)

Command = tuple[str, dict[str, Any]]


def cohort_commands(has_faq: bool) -> list[Callable[[int], Command]]:
    mix: list[Callable[[int], Command]] = [
        lambda n: ("goal add", {"text": f"Finish module {n % 9 + 1} exercises", "hours": 2.5}),
        lambda n: ("checkin", {"hours": 1.5 + n % 4, "done": f"Lesson {n}", "mood": 1 + n % 5}),
    ]
    if has_faq:
        mix.append(lambda n: ("faq ask", {"question": FAQ_QUESTIONS[n % len(FAQ_QUESTIONS)]}))
    return mix


def has_command(emu: Emulator, path: str) -> bool:
    """Whether the bot's synced tree has `/path` (e.g. "faq ask")."""
    name, *rest = path.split()
    for command in emu.commands.scope(None):
        if command.name == name:
            return not rest or any(o["name"] == rest[0] for o in command.options)
    return False


@dataclass
class Phase:
    latencies: dict[str, list[float]]
    missed: int  # not acknowledged within Discord's 3 s
    seconds: float

    @property
    def all(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]

    @property
    def rate(self) -> float:
        return len(self.all) / self.seconds


async def load(
    members: list[list[Member]],
    mix: list[Callable[[int], Command]],
    seconds: float,
    rng: random.Random,
    think: tuple[float, float] = THINK,
) -> Phase:
    """Every concurrent member issues commands until `seconds` pass, thinking `think` seconds
    between an answer and the next command."""
    latencies: dict[str, list[float]] = {}
    missed = 0
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    counter = itertools.count()

    async def member(turns: list[Member], offset: int) -> None:
        nonlocal missed
        step = offset
        await asyncio.sleep(rng.uniform(0, think[1]))  # do not all start in the same tick
        for who in itertools.cycle(turns):
            if loop.time() >= stop:
                return
            name, options = mix[step % len(mix)](next(counter))
            step += 1
            try:
                result = await who.slash(name, **options)
            except InteractionNotAcknowledged:
                missed += 1
                continue
            if result.ack_latency is not None:
                latencies.setdefault(name, []).append(result.ack_latency)
            await asyncio.sleep(rng.uniform(*think))

    started = loop.time()
    await asyncio.gather(*(member(turns, i) for i, turns in enumerate(members)))
    return Phase(latencies, missed, loop.time() - started)


async def measure(
    kind: str, seconds: float, flat_out: float
) -> tuple[Phase, Phase, dict[str, Any]]:
    """The paced load for `seconds`, then `flat_out` seconds without thinking (saturation)."""
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    guild.add_text_channel("general")
    moderator = guild.add_member("Mia", permissions=MANAGE_GUILD)
    people = [guild.add_member(f"Learner {n}") for n in range(CONCURRENT * ROTATION)]
    members = [people[i::CONCURRENT] for i in range(CONCURRENT)]
    rng = random.Random(8)
    info: dict[str, Any] = {}
    with scratch() as workdir:
        async with emu.running(patch_discord=False), bot_process(emu, kind, workdir) as bot:
            await bot.wait_ready()
            await emu.wait_synced(timeout=30)
            if kind == "bare":
                mix: list[Callable[[int], Command]] = [lambda n: ("ping", {})]
            else:
                info["faq"] = has_command(emu, "faq ask")
                if info["faq"]:
                    imported = await moderator.slash("faq import", pack="meta-back-end")
                    if imported.deferred:
                        await imported.wait_for_followup(timeout=30)
                mix = cohort_commands(info["faq"])
            await load(members, mix, min(3.0, seconds / 3), rng, think=(0.1, 0.5))  # warm-up
            # The emulator is the measuring instrument: its pauses would count as the bot's.
            here: list[tuple[float, float, float]] = []
            sampler = asyncio.create_task(sample_lag(here))
            try:
                with frozen_heap():
                    began = time.time()
                    paced = await load(members, mix, seconds, rng)
                    ended = time.time()
                    saturated = await load(members, mix, flat_out, rng, think=(0.0, 0.0))
            finally:
                sampler.cancel()
    # Both event loops during the paced phase: how long each was held up, and (the bot's) how
    # much of that its thread spent computing (the rest is the machine busy elsewhere).
    samples = bot.lag(began, ended)
    info["loop_lag_max"] = max((lag for lag, _ in samples), default=0.0)
    info["loop_busy_max"] = max((min(lag, cpu) for lag, cpu in samples), default=0.0)
    info["emulator_lag_max"] = max((lag for at, lag, _ in here if at <= ended), default=0.0)
    return paced, saturated, info


async def run(quick: bool) -> list[Result]:
    seconds, flat_out = (6.0, 2.0) if quick else (30.0, 10.0)
    base, base_flat, _ = await measure("bare", seconds, flat_out)
    ours, ours_flat, info = await measure("cohort", seconds, flat_out)
    b50, b99, bmax = summary(base.all)
    commands = " + ".join(f"/{name}" for name in ours.latencies)
    faq_note = "" if info.get("faq") else "; /faq ask not in the bot yet, left out"
    workload = (
        f"{CONCURRENT} members, {commands}, {seconds:g} s, think {THINK[0]}-{THINK[1]} s "
        f"({ours.rate:.0f}/s){faq_note}"
    )
    results = []
    rows = [("all", ours.all), *((f"/{k}", v) for k, v in sorted(ours.latencies.items()))]
    for label, values in rows:
        p50, p99, worst = summary(values)
        results.append(
            Result(
                benchmark="interaction ack" if label == "all" else f"interaction ack {label}",
                workload=workload if label == "all" else f"{len(values)} interactions",
                unit="s",
                median=p50,
                p99=p99,
                target="p99 ≤ 100 ms",
                met=p99 <= TARGET_P99,
                baseline_name="bare /ping p99",
                baseline=b99,
                ratio=b99 / p99,
                notes=(
                    f"max {worst * 1000:.1f} ms; not acknowledged within 3 s: {ours.missed}"
                    + (
                        f"; bot event loop held up ≤ {info['loop_lag_max'] * 1000:.0f} ms, "
                        f"computing ≤ {info['loop_busy_max'] * 1000:.0f} ms of it; emulator loop "
                        f"held up ≤ {info['emulator_lag_max'] * 1000:.0f} ms"
                        if label == "all"
                        else ""
                    )
                ),
                extra={
                    "max": worst,
                    "bot_loop_lag_max": info["loop_lag_max"],
                    "bot_loop_busy_max": info["loop_busy_max"],
                    "emulator_loop_lag_max": info["emulator_lag_max"],
                    "interactions": len(values),
                    "not_acknowledged": ours.missed,
                    "baseline_p50": b50,
                    "baseline_max": bmax,
                    "baseline_interactions": len(base.all),
                    "baseline_not_acknowledged": base.missed,
                },
            )
        )
    s50, s99, smax = summary(ours_flat.all)
    results.append(
        Result(
            benchmark="interaction throughput",
            workload=f"{CONCURRENT} members without thinking, {flat_out:g} s, {commands}",
            unit="/s",
            median=ours_flat.rate,
            target="— (saturation)",
            baseline_name="bare /ping",
            baseline=base_flat.rate,
            ratio=ours_flat.rate / base_flat.rate,
            notes=(
                f"ack p50 {s50 * 1000:.0f} ms, p99 {s99 * 1000:.0f} ms, max {smax * 1000:.0f} ms"
                f" at saturation; per command p99: "
                + ", ".join(
                    f"/{k} {summary(v)[1] * 1000:.0f} ms" for k, v in ours_flat.latencies.items()
                )
            ),
            extra={
                "p50": s50,
                "p99": s99,
                "max": smax,
                "not_acknowledged": ours_flat.missed,
                "baseline_p99": summary(base_flat.all)[1],
            },
        )
    )
    return results
