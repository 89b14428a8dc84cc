"""Run the performance suite: a table on stdout, JSON and a PNG chart in benchmarks/results/."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.framework import Result

RESULTS = Path(__file__).parent / "results"
# Each module exposes `run(quick: bool) -> list[Result]` (plain or async).
SUITE = (
    "benchmarks.bench_ack",
    "benchmarks.bench_checkins",
    "benchmarks.bench_pairing",
    "benchmarks.bench_faq",
    "benchmarks.bench_faq_restart",
    "benchmarks.bench_summary",
    "benchmarks.bench_plans",
    "benchmarks.bench_scheduler",
    "benchmarks.bench_shards",
    "benchmarks.bench_memory",
)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:.2f} ms" if value < 1 else f"{value:.2f} s"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}"


def table(results: list[Result]) -> str:
    header = ("benchmark", "workload", "median", "p99", "target", "met", "baseline", "ratio")
    rows = [header]
    for r in results:
        rows.append(
            (
                r.benchmark,
                r.workload,
                fmt(r.median, r.unit),
                fmt(r.p99, r.unit),
                r.target,
                {True: "yes", False: "NO", None: "—"}[r.met],
                f"{r.baseline_name}: {fmt(r.baseline, r.unit)}" if r.baseline_name else "—",
                f"{r.ratio:.2f}×" if r.ratio is not None else "—",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def chart(results: list[Result], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = [r for r in results if r.ratio is not None]
    if not shown:
        return
    figure = Figure(figsize=(10, 0.5 * len(shown) + 1.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    labels = [f"{r.benchmark}\n{r.workload}" for r in shown]
    colours = ["#3ba55d" if r.met is not False else "#ed4245" for r in shown]
    ax.barh(labels, [r.ratio or 0 for r in shown], color=colours)
    ax.axvline(1.0, color="#888", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("ratio to the same-run baseline (log; >1 is better)")
    ax.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short pass (under two minutes)")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark modules to run")
    args = parser.parse_args(argv)
    results: list[Result] = []
    started = time.perf_counter()
    load_at_start = os.getloadavg()  # a busy machine explains noisy figures
    for name in SUITE:
        short = name.rsplit(".", 1)[1].removeprefix("bench_")
        if args.only and short not in args.only:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that feature's benchmark is not there yet
            raise
        sys.stderr.write(f"running {short}…\n")
        began = time.perf_counter()
        outcome = module.run(args.quick)
        results.extend(await outcome if inspect.isawaitable(outcome) else outcome)
        sys.stderr.write(f"  {short}: {time.perf_counter() - began:.0f} s\n")
    RESULTS.mkdir(exist_ok=True)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": {"start": load_at_start, "end": os.getloadavg()},
        },
        "seconds": round(time.perf_counter() - started, 1),
        "results": [r.as_dict() for r in results],
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(results, RESULTS / "latest.png")
    sys.stdout.write(table(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
