"""FAQ ranking: which stored entry answers a free-text question (pure domain module).

Local and deterministic; nothing is fetched at run time.

Lexical path (always on)
    * Text is normalised by :mod:`bot.domain.text`: case, accents (NFKD), punctuation, emoji,
      zero-width characters, stop words, chat abbreviations, Snowball English stemming.
    * Typos: a query word missing from the vocabulary is replaced by its closest vocabulary word
      (rapidfuzz Indel ratio ≥ ``TYPO_MIN_RATIO``), weighted by that similarity; a misspelt
      stop word ("wht", "dose") is dropped.
    * BM25 over two fields of a small inverted index: *titles*, where the question and each alias
      is its own passage and an entry counts as its best passage (many aliases neither dilute nor
      inflate it), and *answers*, down-weighted to ``W_ANSWER``.
    * Score in [0, 1]: for the best title passage, BM25 divided by what the query could score
      at most (the IDF sum of its terms, a word found nowhere counting as the rarest possible
      word), blended geometrically with how much of the passage the query covers
      (IDF-weighted); plus, for entries whose titles matched, the answer's normalised BM25
      (an answer-only match could score at most ``W_ANSWER``, below every threshold, so it is
      not scored).

Semantic path (with an :class:`Embedder`, by default; see :mod:`bot.domain.faq_embedding`)
    Each entry's title passages and the opening of its answer are embedded (:func:`embed_docs`,
    safe in a worker thread); an entry's similarity to a query is
    ``W_TITLE_SEMANTIC * best title cosine + W_CENTROID_SEMANTIC * cosine to the centroid of
    its titles + W_ANSWER_SEMANTIC * answer cosine``, and its score
    ``LEXICAL_SHARE * lexical + (1 - LEXICAL_SHARE) * semantic``. Comparison of candidate
    models: ``docs/faq-ranking.md``.

Chat lines
    Members also send things no FAQ answers: celebrations, banter, questions next to the
    course's topics (a Django error, another certificate). ``bot/data/faq_chat_lines.json``
    holds such lines; with an embedder, the query's cosine to the nearest one counts as a
    rival entry (``CHAT_WEIGHT``), so a question closer to chat than to every entry is
    declined however its words overlap an entry's topic.

Confidence
    ``score - margin * (strongest rival's score)``, clipped to [0, 1]: an entry that barely
    beats another (or, with an embedder, the nearest chat line) is less certain
    (``MARGIN_WEIGHT`` lexically, ``SEMANTIC_MARGIN_WEIGHT`` with an embedder).
    ``Ranking.best`` is set only at or above the threshold (``CONFIDENCE_THRESHOLD``, or
    ``SEMANTIC_CONFIDENCE_THRESHOLD`` with an embedder), chosen on the tune part of the
    evaluation set (``tests/domain/faq_eval.json`` and the chat lines, leave-one-out) with
    ``python -m benchmarks.faq_eval_report --tune``; the held-out parts are only reported. Up
    to ``MAX_RELATED`` other entries with a score of at least ``RELATED_THRESHOLD`` are
    ``related`` (also when there is no best: "did you mean …").

Updates
    :meth:`FaqIndex.upsert` and :meth:`FaqIndex.remove` change the index in place, at a cost
    proportional to the one entry (document frequencies are live counts; with an embedder, the
    entry's passages are embedded once, or passed in already embedded). An index is not meant
    to be shared between threads: build it in one, then use it in another.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
import math
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from rapidfuzz import fuzz, process

from bot.domain.text import STOP_WORDS, expand, normalize, stem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "MAX_QUERY_CHARS",
    "MAX_RELATED",
    "RELATED_THRESHOLD",
    "SEMANTIC_CONFIDENCE_THRESHOLD",
    "DocVectors",
    "Embedder",
    "FaqDoc",
    "FaqIndex",
    "Match",
    "Ranking",
    "doc_texts",
    "embed_docs",
    "text_digest",
    "vector_bytes",
    "vector_from_bytes",
]

#: Minimum confidence for an answer, lexical only. Chosen on the tune set: the highest
#: coverage with ≥ 92 % precision and ≥ 95 % abstention, rounded towards caution.
CONFIDENCE_THRESHOLD = 0.48
#: Minimum confidence for an answer when an embedder is used. It and the semantic constants
#: below (the three weights, LEXICAL_SHARE, SEMANTIC_MARGIN_WEIGHT, the runner-up floor,
#: CHAT_WEIGHT) are the best setting of ``python -m benchmarks.faq_eval_report --tune``: the
#: most coverage on the tune part (58 %) at ≥ 92 % precision and ≥ 90 % abstention among the
#: settings that answer every starter-pack question and its two plain rewordings.
SEMANTIC_CONFIDENCE_THRESHOLD = 0.26
#: Minimum score for an entry to be listed as related.
RELATED_THRESHOLD = 0.30
#: At most this many related entries.
MAX_RELATED = 3

# BM25 (Robertson/Lucene form). Titles are short: milder length normalisation.
_K1 = 1.2
_B_TITLE = 0.5
_B_ANSWER = 0.75
#: Weight of the answer text (lexical BM25, and semantic cosine); titles get the rest. Answers
#: are long and mention many topics in passing: lexically they only break near-ties.
W_ANSWER = 0.1
#: Semantic similarity of an entry: its best title passage, the centroid of all of them (the
#: entry's topic as a whole) and the opening of its answer.
W_TITLE_SEMANTIC = 0.4
W_CENTROID_SEMANTIC = 0.4
W_ANSWER_SEMANTIC = 0.2
#: The nearest chat line's cosine, times this, rivals the best entry like a runner-up.
CHAT_WEIGHT = 1.0
#: Characters of an answer's opening that are embedded.
ANSWER_OPENING_CHARS = 100
#: Exponent of the query side in the geometric blend of query and passage coverage.
QUERY_SIDE = 0.6
#: Share of the lexical score when an embedder is used.
LEXICAL_SHARE = 0.1
#: How much of the strongest other entry's score is taken off an entry's confidence
#: (lexical only, and with an embedder).
MARGIN_WEIGHT = 0.5
SEMANTIC_MARGIN_WEIGHT = 0.5
#: With an embedder, the runner-up counts as at least this (about what any text scores against
#: an unrelated entry): in a small FAQ the best entry must stand out from chance, not only from
#: the few others.
SEMANTIC_RUNNER_UP_FLOOR = 0.25
#: Longer questions are cut (``/faq ask`` takes at most 300 characters); bounds the work.
MAX_QUERY_CHARS = 1_000
#: Typo correction: minimum rapidfuzz ratio (0-100) and minimum word length.
TYPO_MIN_RATIO = 80.0
TYPO_MIN_LEN = 3

_K = TypeVar("_K")
_Key = tuple[int, int]  # (doc id, passage number: 0 = question, 1.. = aliases)


@dataclass(frozen=True, slots=True)
class FaqDoc:
    """One FAQ entry as the ranker sees it (answers given from the queue become aliases)."""

    id: int
    question: str
    answer: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """One entry for one query: ``score`` (0-1) orders, ``confidence`` (0-1) thresholds."""

    doc_id: int
    score: float
    confidence: float


@dataclass(frozen=True, slots=True)
class Ranking:
    """The answer (``None`` when not confident), related entries, and the scored candidates."""

    best: Match | None
    related: tuple[Match, ...] = ()
    candidates: tuple[Match, ...] = field(default=())


class Embedder(Protocol):
    """Turns texts into unit-length vectors (rows of a 2-D float array)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class _Bm25Field(Generic[_K]):
    """BM25 over an inverted index with live document frequencies (add/remove one unit).

    IDF values, length norms and per-unit IDF totals are cached and dropped on any change.
    """

    __slots__ = ("_b", "_idf", "_idf_total", "_lengths", "_norm", "_postings", "_terms", "_total")

    def __init__(self, b: float) -> None:
        self._b = b
        self._postings: dict[str, dict[_K, int]] = {}
        self._lengths: dict[_K, int] = {}
        self._terms: dict[_K, tuple[str, ...]] = {}
        self._total = 0
        self._idf: dict[str, float] = {}
        self._norm: dict[_K, float] = {}
        self._idf_total: dict[_K, float] = {}

    def _changed(self) -> None:
        self._idf.clear()
        self._norm.clear()
        self._idf_total.clear()

    def add(self, key: _K, terms: list[str]) -> None:
        self.remove(key)
        counts = Counter(terms)
        self._lengths[key] = len(terms)
        self._terms[key] = tuple(counts)
        self._total += len(terms)
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[key] = tf
        self._changed()

    def remove(self, key: _K) -> None:
        length = self._lengths.pop(key, None)
        if length is None:
            return
        self._total -= length
        for term in self._terms.pop(key):
            posting = self._postings[term]
            del posting[key]
            if not posting:
                del self._postings[term]
        self._changed()

    def __contains__(self, term: object) -> bool:
        return term in self._postings

    def idf(self, term: str) -> float:
        value = self._idf.get(term)
        if value is None:
            n = len(self._lengths)
            df = len(self._postings.get(term, ()))
            value = self._idf[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return value

    def _length_norm(self, key: _K) -> float:
        value = self._norm.get(key)
        if value is None:
            avg = self._total / len(self._lengths) or 1.0
            value = self._norm[key] = _K1 * (1.0 - self._b + self._b * self._lengths[key] / avg)
        return value

    def scores(self, query: Mapping[str, float]) -> dict[_K, float]:
        out: dict[_K, float] = {}
        for term, weight in query.items():
            posting = self._postings.get(term)
            if not posting:
                continue
            idf = self.idf(term) * weight * (_K1 + 1.0)
            for key, tf in posting.items():
                out[key] = out.get(key, 0.0) + idf * tf / (tf + self._length_norm(key))
        return out

    def scores_for(self, query: Mapping[str, float], keys: Iterable[_K]) -> dict[_K, float]:
        """Like :meth:`scores`, for the given units only."""
        out: dict[_K, float] = {}
        postings = [
            (self._postings[t], self.idf(t) * w * (_K1 + 1.0))
            for t, w in query.items()
            if t in self._postings
        ]
        for key in keys:
            total = 0.0
            for posting, idf in postings:
                tf = posting.get(key)
                if tf:
                    total += idf * tf / (tf + self._length_norm(key))
            if total:
                out[key] = total
        return out

    def ceiling(self, query: Mapping[str, float], unknown: int) -> float:
        """What the query can be expected to score at most: the IDF sum of its terms."""
        return sum(self.idf(t) * w for t, w in query.items()) + self.idf("") * unknown

    def coverage(self, key: _K, query: Mapping[str, float]) -> float:
        """IDF-weighted share of the unit's distinct terms that the query contains."""
        total = self._idf_total.get(key)
        if total is None:
            total = self._idf_total[key] = sum(self.idf(t) for t in self._terms[key])
        if not total:
            return 0.0
        terms = self._terms[key]
        return sum(self.idf(t) * w for t, w in query.items() if t in terms) / total


@dataclass(frozen=True, slots=True, eq=False)
class DocVectors:
    """One entry's embeddings: its title passages (question, aliases), their centroid, and the
    opening of its answer. Unit-length rows."""

    titles: Any  # (passages, dim)
    centroid: Any  # (dim,)
    answer: Any  # (dim,)


def answer_opening(answer: str) -> str:
    """What of an answer is embedded: its opening, which says what it is about (the rest adds
    model time, not accuracy)."""
    text = " ".join(answer.split())
    if len(text) <= ANSWER_OPENING_CHARS:
        return text
    return text[:ANSWER_OPENING_CHARS].rsplit(" ", 1)[0]


def doc_texts(doc: FaqDoc) -> tuple[str, ...]:
    """The texts of an entry that are embedded: its question, its aliases, its answer's opening."""
    return (doc.question, *doc.aliases, answer_opening(doc.answer))


@functools.cache
def chat_lines() -> tuple[str, ...]:
    """Lines members send that no FAQ answers (``bot/data/faq_chat_lines.json``)."""
    raw = resources.files("bot.data").joinpath("faq_chat_lines.json").read_text("utf-8")
    lines: list[str] = json.loads(raw)["lines"]
    return tuple(lines)


_chat_by_embedder: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def chat_vectors(embedder: Embedder) -> Any:
    """The chat lines' unit vectors by ``embedder`` (embedded once per embedder: about 0.3 s,
    worth doing in a worker thread before the first question)."""
    vectors = _chat_by_embedder.get(embedder)
    if vectors is None:  # two threads may both embed them: harmless, the result is the same
        vectors = _chat_by_embedder[embedder] = embedder.embed(list(chat_lines()))
    return vectors


def text_digest(text: str) -> bytes:
    """The key of a text's stored vector: sha256 of the text with its spacing collapsed (the
    model's tokenizer splits on spacing, so such texts get the same vector)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()


def vector_bytes(vector: Any) -> bytes:
    """A vector as stored: little-endian float32 (exact: a stored vector ranks as a fresh one)."""
    import numpy as np

    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(raw: bytes, dimensions: int | None = None) -> Any:
    """The vector stored as ``raw``, or ``None`` if it isn't one (of ``dimensions`` values)."""
    import numpy as np

    if not raw or len(raw) % 4 or (dimensions is not None and len(raw) != 4 * dimensions):
        return None
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def embed_docs(
    embedder: Embedder,
    docs: Iterable[FaqDoc],
    known: Mapping[str, Any] | None = None,
    fresh: dict[str, Any] | None = None,
) -> dict[int, DocVectors]:
    """Embeddings of ``docs``, reusing ``known`` vectors (text -> vector) and embedding every
    other text once, in one model call; those are also added to ``fresh`` (to be stored).
    Touches no index: safe to run in a worker thread."""
    import numpy as np

    docs = list(docs)
    known = dict(known or {})
    wanted = {text for doc in docs for text in doc_texts(doc) if text not in known}
    if wanted:
        texts = sorted(wanted)
        vectors = embedder.embed(texts)
        made = dict(zip(texts, vectors, strict=True))
        known.update(made)
        if fresh is not None:
            fresh.update(made)
    out: dict[int, DocVectors] = {}
    for doc in docs:
        titles = np.stack([known[t] for t in (doc.question, *doc.aliases)])
        centroid = titles.mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        out[doc.id] = DocVectors(
            titles, centroid / norm if norm else centroid, known[answer_opening(doc.answer)]
        )
    return out


class _Vectors:
    """Every entry's :class:`DocVectors`, stacked lazily for search."""

    def __init__(self, embedder: Embedder, vectors: Mapping[int, DocVectors]) -> None:
        self.embedder = embedder
        self.chat = chat_vectors(embedder)
        self._docs: dict[int, DocVectors] = dict(vectors)
        self._stack: tuple[Any, Any, Any, Any, Any] | None = None

    def put(self, doc_id: int, vectors: DocVectors) -> None:
        self._docs[doc_id] = vectors
        self._stack = None

    def remove(self, doc_id: int) -> None:
        if self._docs.pop(doc_id, None) is not None:
            self._stack = None

    def known(self, docs: Mapping[int, FaqDoc]) -> dict[str, Any]:
        """Text -> vector for the texts of ``docs`` (to reuse when rebuilding)."""
        out: dict[str, Any] = {}
        for doc_id, vectors in self._docs.items():
            doc = docs.get(doc_id)
            if doc is None:
                continue
            out.update(zip((doc.question, *doc.aliases), vectors.titles, strict=True))
            out[answer_opening(doc.answer)] = vectors.answer
        return out

    def similarities(self, query: str, vector: Any = None) -> tuple[Any, Any, float]:
        """Entry ids (ascending, an int array), per entry the weighted best-title, centroid and
        answer cosines, ≥ 0 (a float64 array), and the cosine of the nearest chat line."""
        import numpy as np

        q = self.embedder.embed([query])[0] if vector is None else vector
        chat = float(np.einsum("ij,j->i", self.chat, q).max()) if len(self.chat) else 0.0
        if not self._docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0), chat
        if self._stack is None:
            ids = np.array(sorted(self._docs), dtype=np.int64)
            counts = np.array([len(self._docs[i].titles) for i in ids], dtype=np.intp)
            # Where each entry's title rows start: an entry's rows are contiguous.
            starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
            titles = np.concatenate([self._docs[i].titles for i in ids])
            centroids = np.stack([self._docs[i].centroid for i in ids])
            answers = np.stack([self._docs[i].answer for i in ids])
            self._stack = (titles, starts, centroids, answers, ids)
        titles, starts, centroids, answers, ids = self._stack
        # Three matrix-vector products and a segmented maximum, all in numpy: nothing per
        # entry or per phrasing in Python. einsum, not ``@``: it stays off BLAS's thread pool,
        # which would fight the model's threads for the cores.
        best = np.maximum.reduceat(np.einsum("ij,j->i", titles, q), starts).astype(np.float64)
        combined = (
            W_TITLE_SEMANTIC * best
            + W_CENTROID_SEMANTIC * np.einsum("ij,j->i", centroids, q)
            + W_ANSWER_SEMANTIC * np.einsum("ij,j->i", answers, q)
        )
        return ids, np.maximum(combined, 0.0), chat


class FaqIndex:
    """Searchable FAQ entries. Build with :meth:`build`; keep current with upsert/remove."""

    def __init__(self) -> None:
        self._docs: dict[int, FaqDoc] = {}
        self._titles: _Bm25Field[_Key] = _Bm25Field(_B_TITLE)
        self._answers: _Bm25Field[int] = _Bm25Field(_B_ANSWER)
        self._vocab: Counter[str] = Counter()  # surface word -> entries using it
        self._doc_vocab: dict[int, frozenset[str]] = {}
        self._vocab_list: list[str] | None = None
        self._vectors: _Vectors | None = None
        # Folded question or phrasing -> the entries that have it word for word.
        self._phrasings: dict[str, set[int]] = {}

    @classmethod
    def build(
        cls,
        docs: Iterable[FaqDoc],
        embedder: Embedder | None = None,
        known: Mapping[str, Any] | None = None,
        fresh: dict[str, Any] | None = None,
    ) -> FaqIndex:
        """An index of ``docs`` (a later doc with the same id replaces an earlier one); with an
        embedder, semantic, embedding in one batch the texts that ``known`` lacks (collected in
        ``fresh``)."""
        index = cls()
        for doc in docs:
            index.upsert(doc)
        if embedder is not None:
            index.attach(embedder, embed_docs(embedder, index._docs.values(), known, fresh))
        return index

    def attach(self, embedder: Embedder, vectors: Mapping[int, DocVectors]) -> None:
        """Make the index semantic with ``vectors`` (from :func:`embed_docs`); entries they
        lack are embedded now."""
        missing = [doc for doc_id, doc in self._docs.items() if doc_id not in vectors]
        complete = {i: v for i, v in vectors.items() if i in self._docs}
        if missing:
            complete.update(embed_docs(embedder, missing))
        self._vectors = _Vectors(embedder, complete)

    def docs(self) -> dict[int, FaqDoc]:
        """A copy of the entries (what an off-thread embedding works from)."""
        return dict(self._docs)

    def known_vectors(self) -> dict[str, Any]:
        """Text -> vector of the current entries (reused by :func:`embed_docs`)."""
        return {} if self._vectors is None else self._vectors.known(self._docs)

    @property
    def semantic(self) -> bool:
        """Whether an embedder takes part in ranking."""
        return self._vectors is not None

    @property
    def threshold(self) -> float:
        """The confidence an answer needs with this index's configuration."""
        return SEMANTIC_CONFIDENCE_THRESHOLD if self.semantic else CONFIDENCE_THRESHOLD

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def get(self, doc_id: int) -> FaqDoc | None:
        return self._docs.get(doc_id)

    def upsert(self, doc: FaqDoc, vectors: DocVectors | None = None) -> None:
        """Add ``doc``, or replace the entry with the same id. A semantic index embeds it
        unless given its ``vectors`` (computed off the event loop with :func:`embed_docs`)."""
        self.remove(doc.id)
        self._docs[doc.id] = doc
        surface: set[str] = set()
        for number, text in enumerate((doc.question, *doc.aliases)):
            words = _content_words(text)
            surface.update(words)
            self._titles.add((doc.id, number), [stem(w) for w in words])
            self._phrasings.setdefault(normalize(text), set()).add(doc.id)
        answer_words = _content_words(doc.answer)
        surface.update(answer_words)
        self._answers.add(doc.id, [stem(w) for w in answer_words])
        self._doc_vocab[doc.id] = frozenset(surface)
        self._vocab.update(surface)
        self._vocab_list = None
        if self._vectors is not None:
            if vectors is None:
                vectors = embed_docs(self._vectors.embedder, [doc])[doc.id]
            self._vectors.put(doc.id, vectors)

    def remove(self, doc_id: int) -> None:
        """Forget the entry ``doc_id`` (no-op when absent)."""
        doc = self._docs.pop(doc_id, None)
        if doc is None:
            return
        for number, text in enumerate((doc.question, *doc.aliases)):
            self._titles.remove((doc_id, number))
            key = normalize(text)
            holders = self._phrasings.get(key, set())
            holders.discard(doc_id)
            if not holders:
                self._phrasings.pop(key, None)
        self._answers.remove(doc_id)
        for word in self._doc_vocab.pop(doc_id):
            self._vocab[word] -= 1
            if not self._vocab[word]:
                del self._vocab[word]
        self._vocab_list = None
        if self._vectors is not None:
            self._vectors.remove(doc_id)

    # --- ranking ------------------------------------------------------------------------

    def embed_query(self, query: str) -> Any:
        """The query's vector for :meth:`rank` (``None`` for a lexical index): the one model
        call of a question, which a caller may make in a worker thread."""
        if self._vectors is None or not normalize(query[:MAX_QUERY_CHARS]):
            return None
        return self._vectors.embedder.embed([query[:MAX_QUERY_CHARS]])[0]

    def rank(self, query: str, limit: int = 4, vector: Any = None) -> Ranking:
        """Entries for ``query``, best first: ``best`` only when confident, ``related`` ≤ 3.

        ``candidates`` holds the top ``limit`` matches (best included), whatever their
        confidence; ``related`` never contains ``best``. ``vector`` is the query's embedding
        from :meth:`embed_query`, if already made.
        """
        if not self._docs or limit <= 0:
            return Ranking(None)
        query = query[:MAX_QUERY_CHARS]
        scores = self._lexical(query)
        chat = 0.0
        if self._vectors is not None and normalize(query):
            ids, values, chat = self._vectors.similarities(query, vector)
            top = self._top_combined(scores, ids, values, limit + 1)
        else:
            top = heapq.nsmallest(
                limit + 1, ((-s, doc_id) for doc_id, s in scores.items() if s > 0.0)
            )
        exact = self._exact(query)
        if not top:
            if exact is None:
                return Ranking(None)
            only = Match(exact, 1.0, 1.0)
            return Ranking(only, (), (only,))
        ordered = [(round(-s, 9), doc_id) for s, doc_id in top]
        margin = SEMANTIC_MARGIN_WEIGHT if self.semantic else MARGIN_WEIGHT
        floor = max(SEMANTIC_RUNNER_UP_FLOOR, CHAT_WEIGHT * chat) if self.semantic else 0.0
        runner_up = max(floor, ordered[1][0] if len(ordered) > 1 else 0.0)
        matches = []
        for position, (score, doc_id) in enumerate(ordered[:limit]):
            other = runner_up if position == 0 else ordered[0][0]
            confidence = min(1.0, max(0.0, score - margin * other))
            matches.append(Match(doc_id, score, round(confidence, 9)))
        best = matches[0] if matches[0].confidence >= self.threshold else None
        if exact is not None:
            # Asked in an entry's own words (its question, or a phrasing learned from the
            # queue): that entry is the answer, however close its neighbours are.
            found = next((m for m in matches if m.doc_id == exact), None)
            best = Match(exact, found.score if found else 1.0, 1.0)
            matches = [best, *(m for m in matches if m.doc_id != exact)][:limit]
        related = [m for m in matches if m is not best and m.score >= RELATED_THRESHOLD]
        return Ranking(best, tuple(related[:MAX_RELATED]), tuple(matches))

    def _exact(self, query: str) -> int | None:
        """The one entry with ``query`` as its question or a phrasing, folded alike."""
        holders = self._phrasings.get(normalize(query))
        if holders is None or len(holders) != 1:
            return None
        (doc_id,) = holders
        return doc_id

    @staticmethod
    def _top_combined(
        lexical: Mapping[int, float], ids: Any, values: Any, count: int
    ) -> list[tuple[float, int]]:
        """The ``count`` best entries by ``LEXICAL_SHARE * lexical + (1 - LEXICAL_SHARE) *
        semantic`` as (-score, id), best first, ties by id: whole-array numpy work, plus one
        step per lexically matched entry."""
        import numpy as np

        combined = (1.0 - LEXICAL_SHARE) * values
        if lexical:
            rows = np.searchsorted(ids, np.fromiter(lexical.keys(), np.int64, len(lexical)))
            extra = LEXICAL_SHARE * np.fromiter(lexical.values(), np.float64, len(lexical))
            combined[rows] = extra + (1.0 - LEXICAL_SHARE) * values[rows]
        positive = np.flatnonzero(combined > 0.0)
        if len(positive) > count:  # the best ``count`` and every entry tied with the last
            cut = np.partition(-combined[positive], count - 1)[count - 1]
            positive = positive[-combined[positive] <= cut]
        order = positive[np.lexsort((ids[positive], -combined[positive]))][:count]
        return [(-float(combined[i]), int(ids[i])) for i in order]

    def _lexical(self, query: str) -> dict[int, float]:
        words = _content_words(query)
        weights, unknown = self._query_terms(words)
        if not weights:
            return {}
        title_ceiling = self._titles.ceiling(weights, unknown) or 1.0
        answer_ceiling = self._answers.ceiling(weights, unknown) or 1.0
        titles: dict[int, float] = {}
        for key, value in self._titles.scores(weights).items():
            query_side = min(1.0, value / title_ceiling)
            passage_side = self._titles.coverage(key, weights)
            blended = query_side**QUERY_SIDE * passage_side ** (1.0 - QUERY_SIDE)
            if blended > titles.get(key[0], 0.0):
                titles[key[0]] = blended
        # Answers only refine entries whose titles matched: an answer-only match scores at most
        # W_ANSWER, below every threshold, so it is not worth scoring.
        answers = self._answers.scores_for(weights, titles.keys())
        return {
            doc_id: (1.0 - W_ANSWER) * title
            + W_ANSWER * min(1.0, answers.get(doc_id, 0.0) / answer_ceiling)
            for doc_id, title in titles.items()
        }

    def _query_terms(self, words: list[str]) -> tuple[dict[str, float], int]:
        """Stemmed query terms with weights (typo-corrected ones < 1), and the unknown count."""
        weights: dict[str, float] = {}
        unknown = 0
        for word in words:
            term = stem(word)
            if term in self._titles or term in self._answers:
                weights[term] = 1.0
                continue
            corrected = self._correct(word)
            if corrected is None:
                unknown += 1
                continue
            if not corrected:
                continue  # a misspelt stop word
            fixed, similarity = corrected
            fixed_term = stem(fixed)
            weights[fixed_term] = max(weights.get(fixed_term, 0.0), similarity)
        return weights, unknown

    def _correct(self, word: str) -> tuple[str, float] | tuple[()] | None:
        """The closest vocabulary word and its similarity; ``()`` for a misspelt stop word."""
        if len(word) < TYPO_MIN_LEN or not word.isalpha():
            return None
        if self._vocab_list is None:
            self._vocab_list = sorted(self._vocab)
        found = process.extractOne(
            word, self._vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_MIN_RATIO
        )
        stop = process.extractOne(word, _STOP_LIST, scorer=fuzz.ratio, score_cutoff=TYPO_MIN_RATIO)
        if stop is not None and (found is None or stop[1] >= found[1]):
            return ()
        if found is None:
            return None
        return found[0], found[1] / 100.0


_STOP_LIST = sorted(STOP_WORDS)


def _content_words(text: str) -> list[str]:
    """Normalised words minus stop words, abbreviations expanded (unstemmed)."""
    out: list[str] = []
    for token in normalize(text).split():
        if token in STOP_WORDS:
            continue
        out.extend(w for w in expand(token) if w not in STOP_WORDS)
    return out
