"""Use-cases for the FAQ: ask, vote, keep entries, work the moderators' queue, import/export.

Ranking is :mod:`bot.domain.faq_ranking`; each guild's index is built from the database on first
use and kept in step with every change made through this service (add, edit, remove, answer,
import), so asking never reads every entry again. Changes to one guild's FAQ are serialised by a
lock, so an index build never misses a change that commits while it runs.

Questions are compared by :func:`question_key` (case, accents, punctuation and spacing folded):
two entries of a guild cannot share one, an import updates the entry whose key matches, and the
same question asked twice while it waits merges into one queue item with a count. Answering an
item either makes a new entry or, with an answer of the form ``#12``, teaches entry 12 the
member's phrasing as an alias, so the next member who words it that way gets an answer.

The exchange format of export and import is
``{"version": 1, "entries": [{"question": str, "answer": str, "aliases": [str], "tags": [str]}]}``.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import math
import re
import zlib
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Literal

from bot.clock import Clock
from bot.domain.faq_ranking import (
    DocVectors,
    Embedder,
    FaqDoc,
    FaqIndex,
    Ranking,
    chat_vectors,
    doc_texts,
    embed_docs,
    text_digest,
    vector_bytes,
    vector_from_bytes,
)
from bot.domain.text import normalize
from bot.errors import InvalidInput, LimitReached, NotFound
from bot.formatting import cut, one_line, safe
from bot.services.member_data import ANONYMISED, Forgotten
from db.repositories.faq import (
    Asker,
    EntryData,
    FaqEntry,
    FaqRepository,
    QuestionExists,
    QueueItem,
    Vote,
)
from db.repositories.member_preferences import MemberPreferencesRepository

log = logging.getLogger(__name__)

QUESTION_MIN = 3
QUESTION_MAX = 300
ANSWER_MAX = 4000
# Short phrasings are real ("tz", "CV", "AI").
ALIAS_MIN = 1
ALIAS_MAX = QUESTION_MAX
MAX_ALIASES = 20
# All of an entry's aliases, one per line, fit one field of the edit form.
ALIASES_TOTAL_MAX = 4000
TAG_MAX = 50
MAX_TAGS = 10
MAX_ENTRIES = 1000
# The largest file /faq export writes: every field of every entry at its limit, each
# character at its longest in JSON (a control character escaped as \u0000: 6 bytes), compact.
_ENTRY_MAX_CHARS = QUESTION_MAX + ANSWER_MAX + ALIASES_TOTAL_MAX + MAX_TAGS * TAG_MAX
EXPORT_MAX_BYTES = MAX_ENTRIES * (6 * _ENTRY_MAX_CHARS + 8 * (MAX_ALIASES + MAX_TAGS) + 80) + 40
# Import reads whatever export can write (gzipped or not).
IMPORT_MAX_BYTES = EXPORT_MAX_BYTES
PAGE_SIZE = 10
QUEUE_PAGE_SIZE = 5
# Discord shows at most 25 autocomplete choices.
MAX_SUGGESTIONS = 25
# Askers told about one answer (a merged item can have many; the rest can ask again).
MAX_NOTIFIED = 50
EXCHANGE_VERSION = 1
PACKS = {"meta-back-end": "faq_meta_back_end.json"}
_ERRORS_SHOWN = 5
_ENTRY_FIELDS = ("question", "answer", "aliases", "tags")
_ENTRY_REFERENCE = re.compile(r"#\s*([0-9]{1,18})")

NO_SUCH_ENTRY = "There's no such FAQ entry here — pick one from the list as you type."
NO_SUCH_ITEM = "There's no such question in the queue — pick one from the list as you type."


def question_key(text: str) -> str:
    """What makes two questions the same: their normalised words."""
    return normalize(text)[:400]


def preview(text: str, limit: int = 60) -> str:
    """A short, quoted piece of user text for a message (made inert)."""
    return "“" + safe(cut(one_line(text), limit)) + "”"


def _text(value: str, what: str, low: int, high: int) -> str:
    if len(value) < low or len(value) > high:
        raise InvalidInput(f"{what} must be {low}–{high} characters (it has {len(value)}).")
    return value


def valid_question(text: str, what: str = "A question") -> str:
    cleaned = _text(one_line(text), what, QUESTION_MIN, QUESTION_MAX)
    if not question_key(cleaned):
        raise InvalidInput(f"{what} needs some words, not only symbols.")
    return cleaned


def valid_answer(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("An answer needs some text.")
    return _text(cleaned, "An answer", 1, ANSWER_MAX)


def merge_aliases(question: str, *groups: Iterable[str]) -> tuple[str, ...]:
    """Aliases in order, each phrasing once (by key), never the question itself, within the
    limits (the first ones win)."""
    seen = {question_key(question)}
    out: list[str] = []
    total = 0
    for group in groups:
        for alias in group:
            text = one_line(alias)
            key = question_key(text)
            if not key or key in seen or len(text) > ALIAS_MAX:
                continue
            if len(out) >= MAX_ALIASES or total + len(text) + 1 > ALIASES_TOTAL_MAX:
                return tuple(out)
            seen.add(key)
            out.append(text)
            total += len(text) + 1
    return tuple(out)


def valid_aliases(question: str, aliases: Sequence[str]) -> tuple[str, ...]:
    cleaned = [one_line(a) for a in aliases if one_line(a)]
    for alias in cleaned:
        _text(alias, "Each other phrasing", ALIAS_MIN, ALIAS_MAX)
        if not question_key(alias):
            raise InvalidInput(
                f"Other phrasing {preview(alias, 20)} needs a word, not only symbols."
            )
    if len(cleaned) > MAX_ALIASES:
        raise InvalidInput(f"An entry has at most {MAX_ALIASES} other phrasings.")
    merged = merge_aliases(question, cleaned)
    if sum(len(a) + 1 for a in merged) > ALIASES_TOTAL_MAX:
        raise InvalidInput(f"Other phrasings total at most {ALIASES_TOTAL_MAX} characters.")
    return merged


def split_aliases(text: str | None, separator: str) -> list[str]:
    return [part for part in (text or "").split(separator) if part.strip()]


def entry_data(
    question: str, answer: str, aliases: Sequence[str] = (), tags: Sequence[str] = ()
) -> EntryData:
    q = valid_question(question)
    return EntryData(
        q, question_key(q), valid_answer(answer), valid_aliases(q, aliases), tuple(tags)
    )


def entry_reference(text: str) -> int | None:
    """The entry id of an answer written as ``#12`` (then the question becomes its alias)."""
    found = _ENTRY_REFERENCE.fullmatch(text.strip())
    return int(found[1]) if found else None


# ----------------------------------------------------------------------------- import format


def _entry_from_json(value: Any) -> EntryData:
    if not isinstance(value, dict):
        raise InvalidInput('must be an object like {"question": "…", "answer": "…"}')
    unknown = sorted(set(value) - set(_ENTRY_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field `{unknown[0][:40]}` (an entry has {', '.join(_ENTRY_FIELDS)})"
        )
    for name in ("question", "answer"):
        if name not in value:
            raise InvalidInput(f"`{name}` is missing")
        if not isinstance(value[name], str):
            raise InvalidInput(f"`{name}` must be text")
    lists: dict[str, list[str]] = {}
    for name in ("aliases", "tags"):
        items = value.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidInput(f"`{name}` must be a list of texts")
        lists[name] = items
    tags = [one_line(t) for t in lists["tags"] if one_line(t)]
    if len(tags) > MAX_TAGS or any(len(t) > TAG_MAX for t in tags):
        raise InvalidInput(f"at most {MAX_TAGS} tags of at most {TAG_MAX} characters each")
    try:
        return entry_data(value["question"], value["answer"], lists["aliases"], tags)
    except InvalidInput as error:
        raise InvalidInput(error.message[0].lower() + error.message[1:].rstrip(".")) from None


_GZIP_MAGIC = b"\x1f\x8b"


def too_big(size: int) -> str:
    return (
        f"The file is too big: an FAQ export is at most {IMPORT_MAX_BYTES / 1e6:.0f} MB "
        f"({IMPORT_MAX_BYTES:,} bytes), this one has {size:,}."
    )


def _gunzip(raw: bytes) -> bytes:
    """A gzipped export, unpacked; never more than an export can be (a small file may unpack
    to gigabytes)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as packed:
            data = packed.read(IMPORT_MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        raise InvalidInput(
            "The file looks gzipped but can't be unpacked: export it again."
        ) from None
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidInput(too_big(len(data)) + " (unpacked)")
    return data


def parse_exchange(raw: bytes) -> list[EntryData]:
    """Validate an export file; InvalidInput names what is wrong (and which entry)."""
    if len(raw) > IMPORT_MAX_BYTES:
        raise InvalidInput(too_big(len(raw)))
    if raw[:2] == _GZIP_MAGIC:
        raw = _gunzip(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file isn't UTF-8 text: export it again with /faq export.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"The file isn't valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    except RecursionError:
        raise InvalidInput("The file isn't an FAQ export: it nests far too deeply.") from None
    shape = '{"version": 1, "entries": [{"question": …, "answer": …}]}'
    if not isinstance(document, dict):
        raise InvalidInput(f"The file must hold one JSON object: {shape}.")
    if "version" not in document:
        raise InvalidInput(f"The file has no `version`: expected {shape}.")
    version = document["version"]
    if isinstance(version, bool) or version != EXCHANGE_VERSION:
        raise InvalidInput(
            f"The file is version {str(version)[:20]}; Cohort reads version {EXCHANGE_VERSION}."
        )
    unknown = sorted(set(document) - {"version", "entries"})
    if unknown:
        raise InvalidInput(f"Unknown field `{unknown[0][:40]}` at the top of the file.")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise InvalidInput(f"The file needs an `entries` list: {shape}.")
    if not entries:
        raise InvalidInput("The file has no entries.")
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(
            f"A file holds at most {MAX_ENTRIES} entries (this one has {len(entries)})."
        )
    parsed: list[EntryData] = []
    errors: list[str] = []
    first_with: dict[str, int] = {}
    for number, value in enumerate(entries, start=1):
        label = f"Entry {number}"
        if isinstance(value, dict) and isinstance(value.get("question"), str):
            label += f" ({preview(value['question'])})"
        try:
            data = _entry_from_json(value)
        except InvalidInput as error:
            errors.append(f"{label}: {error.message}.")
            continue
        earlier = first_with.setdefault(data.question_key, number)
        if earlier != number:
            errors.append(f"{label}: same question as entry {earlier}.")
            continue
        parsed.append(data)
    if errors:
        shown = "\n".join(f"• {e}" for e in errors[:_ERRORS_SHOWN])
        more = len(errors) - _ERRORS_SHOWN
        tail = f"\n…and {more} more." if more > 0 else ""
        raise InvalidInput(f"Nothing was imported — the file has problems:\n{shown}{tail}")
    return parsed


def export_document(entries: Sequence[FaqEntry]) -> dict[str, Any]:
    return {
        "version": EXCHANGE_VERSION,
        "entries": [
            {
                "question": e.question,
                "answer": e.answer,
                "aliases": list(e.aliases),
                "tags": list(e.tags),
            }
            for e in entries
        ],
    }


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    entries: int


def export_file(entries: Sequence[FaqEntry], limit: int) -> Export:
    document = export_document(entries)
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    if len(data) > limit:
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) <= limit:
        return Export("faq.json", data, len(entries))
    packed = gzip.compress(data, mtime=0)
    if len(packed) > limit:
        raise LimitReached(
            f"The FAQ export is {len(packed):,} bytes even gzipped, more than Discord lets me "
            f"attach here ({limit:,}): remove some entries, or export in a server with a higher "
            "upload limit."
        )
    return Export("faq.json.gz", packed, len(entries))


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Answer:
    """A confident match: the entry, up to three related ones."""

    entry: FaqEntry
    related: tuple[FaqEntry, ...]
    confidence: float


@dataclass(frozen=True)
class Queued:
    """No confident match: the question waits for a moderator ("did you mean" in related)."""

    item: QueueItem
    related: tuple[FaqEntry, ...]


@dataclass(frozen=True)
class Feedback:
    vote: Vote
    by_asker: bool
    # The asker's "not helpful" sent the question to the queue.
    queued: QueueItem | None


@dataclass(frozen=True)
class EntryPage:
    entries: tuple[FaqEntry, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class QueueLine:
    item: QueueItem
    # The entry the ranking finds closest (a moderator may answer with "#id").
    closest: FaqEntry | None


@dataclass(frozen=True)
class QueuePage:
    lines: tuple[QueueLine, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class Recipient:
    """Someone to tell about an answer, and how: a DM, or a reply where they asked."""

    user_id: int
    channel_id: int | None
    message_id: int | None
    by_dm: bool


@dataclass(frozen=True)
class QueueAnswer:
    item: QueueItem
    entry: FaqEntry
    how: Literal["new-entry", "updated-entry", "alias", "known-alias"]
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _matcher(typed: str) -> Callable[[str], bool]:
    """What an autocomplete search matches: normalised words, or (when what was typed has no
    words, such as "%") the characters literally."""
    needle = normalize(typed)
    if needle:
        return lambda text: needle in normalize(text)
    literal = typed.strip().casefold()
    return lambda text: literal in text.casefold()


def _doc(entry: FaqEntry) -> FaqDoc:
    return FaqDoc(entry.id, entry.question, entry.answer, entry.aliases)


async def _rank(index: FaqIndex, text: str, limit: int = 4) -> Ranking:
    """Rank with the query embedded in a worker thread (the model call is the slow part; the
    index itself is only read on the event loop, where it is changed)."""
    vector = await asyncio.to_thread(index.embed_query, text) if index.semantic else None
    return index.rank(text, limit, vector)


#: An FAQ with at most this many texts to embed (questions, phrasings, answers) gets its
#: embeddings with its index (about a second); a larger one is embedded in the background.
INLINE_TEXTS = 512
#: Entries embedded per worker-thread call in the background.
EMBED_CHUNK = 64


def _small(entries: Sequence[FaqEntry], known: dict[str, Any] | None = None) -> bool:
    """Whether the texts of ``entries`` still to embed (not in ``known``) are few."""
    if not known:
        return sum(2 + len(e.aliases) for e in entries) <= INLINE_TEXTS
    missing = {t for e in entries for t in doc_texts(_doc(e)) if t not in known}
    return len(missing) <= INLINE_TEXTS


def _model_id(embedder: Embedder | None) -> str | None:
    """The name under which the embedder's vectors are stored (``None``: not stored)."""
    model = getattr(embedder, "model_id", None)
    return model if isinstance(model, str) and model else None


def _pages(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


class _GuildFaq:
    """One guild's entries and their index. Built in a worker thread; afterwards changed only
    on the event loop."""

    def __init__(self, entries: Iterable[FaqEntry], index: FaqIndex) -> None:
        self.entries = {e.id: e for e in entries}
        self.index = index

    @classmethod
    def build(
        cls,
        entries: Sequence[FaqEntry],
        embedder: Embedder | None = None,
        known: dict[str, Any] | None = None,
        fresh: dict[str, Any] | None = None,
    ) -> _GuildFaq:
        docs = (_doc(e) for e in entries)
        return cls(entries, FaqIndex.build(docs, embedder, known, fresh))

    def put(self, entry: FaqEntry, vectors: DocVectors | None = None) -> None:
        self.entries[entry.id] = entry
        self.index.upsert(_doc(entry), vectors)

    def drop(self, entry_id: int) -> None:
        self.entries.pop(entry_id, None)
        self.index.remove(entry_id)

    def known(self, ids: Iterable[int]) -> tuple[FaqEntry, ...]:
        return tuple(self.entries[i] for i in ids if i in self.entries)


class FaqService:
    def __init__(
        self,
        repository: FaqRepository,
        preferences: MemberPreferencesRepository,
        clock: Clock,
        *,
        embedder: Embedder | None = None,
        load_embedder: Callable[[], Embedder | None] | None = None,
    ) -> None:
        self._repository = repository
        self._preferences = preferences
        self._clock = clock
        self._embedder = embedder
        self._load_embedder = load_embedder
        self._cache: dict[int, _GuildFaq] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- the index -----------------------------------------------------------------------------
    #
    # Indexes are built in a worker thread: lexically first (under a second for 1,000 entries),
    # then the embeddings, in the background; until they are attached, ranking is lexical. The
    # event loop only ever swaps in a finished index or applies one entry's change.

    async def warm_up(self, guild_ids: Iterable[int] | None = None) -> None:
        """Load the semantic model off the event loop (once), then build the indexes of
        ``guild_ids`` (default: every guild with entries). Without the model, or if it cannot
        be loaded (said once in the log), ranking stays lexical."""
        loader, self._load_embedder = self._load_embedder, None
        if loader is not None:
            try:
                embedder = await asyncio.to_thread(loader)
            except Exception as error:  # any failure of an optional part: run lexical
                log.warning("FAQ ranking is lexical: the semantic model did not load (%r)", error)
                embedder = None
            if embedder is not None:
                await asyncio.to_thread(chat_vectors, embedder)  # once, off the event loop
                log.info("FAQ ranking uses the semantic model")
                self._embedder = embedder
                for guild_id, faq in list(self._cache.items()):
                    self._attach_later(guild_id, faq)
        if guild_ids is None:
            guild_ids = await self._repository.guilds_with_entries()
        for guild_id in guild_ids:
            await self._faq(guild_id)

    def ready(self, guild_id: int) -> bool:
        """Whether the guild's index is built (a question is then answered at once)."""
        return guild_id in self._cache

    def semantic(self, guild_id: int) -> bool:
        """Whether the guild's index uses the model (as opposed to lexical only, for now)."""
        cached = self._cache.get(guild_id)
        return cached is not None and cached.index.semantic

    async def stop(self) -> None:
        """Cancel background index work and wait for it to end (before the database closes)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def settled(self) -> None:
        """Wait for background embedding to finish (tests, benchmarks and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def _faq(self, guild_id: int) -> _GuildFaq:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        async with self._lock(guild_id):
            cached = self._cache.get(guild_id)
            if cached is None:
                entries = await self._repository.entries(guild_id)
                known = await self._stored(guild_id, entries)
                embedder = self._embedder if _small(entries, known) else None
                fresh: dict[str, Any] = {}
                cached = await asyncio.to_thread(_GuildFaq.build, entries, embedder, known, fresh)
                self._cache[guild_id] = cached
                await self._store(guild_id, fresh)
                self._attach_later(guild_id, cached, known)
                self._prune_later(guild_id)
            return cached

    # Stored vectors: each text an index embeds is kept in the database under the model's id
    # and the text's digest, so a restart or a rebuild embeds only texts never embedded before.

    async def _stored(self, guild_id: int, entries: Iterable[FaqEntry]) -> dict[str, Any]:
        """Text -> stored vector, for the texts of ``entries`` that have one."""
        embedder = self._embedder
        model = _model_id(embedder)
        if model is None:
            return {}
        stored = await self._repository.vectors(guild_id, model)
        if not stored:
            return {}

        dimensions = getattr(embedder, "dimensions", None)

        def decode() -> dict[str, Any]:
            out: dict[str, Any] = {}
            for entry in entries:
                for text in doc_texts(_doc(entry)):
                    raw = stored.get(text_digest(text))
                    if raw is not None and text not in out:
                        vector = vector_from_bytes(raw, dimensions)
                        if vector is not None:  # a damaged row is embedded again
                            out[text] = vector
            return out

        return await asyncio.to_thread(decode)

    async def _store(self, guild_id: int, fresh: dict[str, Any]) -> None:
        """Keep newly embedded vectors (losing them only costs embedding them again)."""
        model = _model_id(self._embedder)
        if model is None or not fresh:
            return
        rows = {text_digest(text): vector_bytes(vector) for text, vector in fresh.items()}
        try:
            await self._repository.store_vectors(guild_id, model, rows)
        except Exception:
            log.exception("could not store the FAQ vectors of guild %s", guild_id)

    def _prune_later(self, guild_id: int) -> None:
        if _model_id(self._embedder) is not None:
            self._background(self._prune(guild_id))

    async def _prune(self, guild_id: int) -> None:
        """Delete stored vectors of texts no entry of the guild uses any more (and of other
        models), so they don't pile up as entries are edited, replaced and removed."""
        model = _model_id(self._embedder)
        async with self._lock(guild_id):
            cached = self._cache.get(guild_id)
            if model is None or cached is None:
                return
            entries = list(cached.entries.values())
            keep = await asyncio.to_thread(
                lambda: {text_digest(t) for e in entries for t in doc_texts(_doc(e))}
            )
            try:
                await self._repository.prune_vectors(guild_id, model, keep)
            except Exception:
                log.exception("could not prune the FAQ vectors of guild %s", guild_id)

    def _build_later(self, guild_id: int) -> None:
        self._background(self._faq(guild_id))

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _attach_later(
        self, guild_id: int, faq: _GuildFaq, known: dict[str, Any] | None = None
    ) -> None:
        if self._embedder is None or faq.index.semantic:
            return
        self._background(self._attach(guild_id, faq, self._embedder, known))

    async def _attach(
        self, guild_id: int, faq: _GuildFaq, embedder: Embedder, known: dict[str, Any] | None
    ) -> None:
        """Embed the entries in a worker thread (texts with a stored vector aside; each chunk's
        new vectors are stored at once, so a restart resumes rather than starts over) and make
        the index semantic, unless it was replaced meanwhile; entries changed meanwhile are
        embedded again."""
        try:
            if known is None:
                known = await self._stored(guild_id, list(faq.entries.values()))
            while self._cache.get(guild_id) is faq and not faq.index.semantic:
                docs = faq.index.docs()
                todo = list(docs.values())
                vectors: dict[int, DocVectors] = {}
                # In chunks: a shutdown or a replaced index stops the work within one chunk.
                for start in range(0, len(todo), EMBED_CHUNK):
                    chunk = todo[start : start + EMBED_CHUNK]
                    fresh: dict[str, Any] = {}
                    vectors.update(
                        await asyncio.to_thread(embed_docs, embedder, chunk, known, fresh)
                    )
                    if self._cache.get(guild_id) is not faq:
                        return  # replaced, or the guild's data was deleted: store nothing
                    await self._store(guild_id, fresh)
                    if faq.index.semantic:
                        return
                if faq.index.docs() == docs:  # nothing changed while embedding
                    faq.index.attach(embedder, vectors)
                    return
                for doc_id, doc_vectors in vectors.items():
                    doc = docs[doc_id]
                    known.update(zip(doc_texts(doc)[:-1], doc_vectors.titles, strict=True))
                    known[doc_texts(doc)[-1]] = doc_vectors.answer
        except Exception:
            log.exception(
                "could not embed the FAQ of guild %s; its ranking stays lexical", guild_id
            )

    async def _put(self, guild_id: int, *entries: FaqEntry) -> None:
        """Apply changed entries to the guild's index, or build it if it isn't yet (the caller
        holds the guild's lock)."""
        cached = self._cache.get(guild_id)
        if cached is None:
            await self._rebuild(guild_id)
            return
        vectors: dict[int, DocVectors] = {}
        embedder = self._embedder
        if cached.index.semantic and embedder is not None:
            known = cached.index.known_vectors()
            docs = [_doc(e) for e in entries]
            fresh: dict[str, Any] = {}
            vectors = await asyncio.to_thread(embed_docs, embedder, docs, known, fresh)
            await self._store(guild_id, fresh)
        if self._cache.get(guild_id) is not cached:
            return
        for entry in entries:
            cached.put(entry, vectors.get(entry.id))

    async def _rebuild(self, guild_id: int) -> None:
        """Build the guild's index again, once, in a worker thread (after an import), reusing
        the embeddings of unchanged texts; the old index answers meanwhile."""
        old = self._cache.get(guild_id)
        entries = await self._repository.entries(guild_id)
        embedder = self._embedder
        known = await self._stored(guild_id, entries)
        if old is not None:
            known.update(old.index.known_vectors())
        reuse = old is not None and old.index.semantic
        semantic = embedder if reuse or _small(entries, known) else None
        made: dict[str, Any] = {}
        faq = await asyncio.to_thread(_GuildFaq.build, entries, semantic, known, made)
        self._cache[guild_id] = faq
        await self._store(guild_id, made)
        self._attach_later(guild_id, faq, known)
        self._prune_later(guild_id)

    # -- members -------------------------------------------------------------------------------

    async def ask(
        self, guild_id: int, user_id: int, question: str, channel_id: int | None
    ) -> Answer | Queued:
        """The entry that answers `question` when the ranking is confident; otherwise the
        question joins the moderators' queue."""
        text = valid_question(question, "A question")
        faq = await self._faq(guild_id)
        ranking = await _rank(faq.index, text)
        related = faq.known(m.doc_id for m in ranking.related)
        if ranking.best is not None:
            entry = await self._repository.record_use(guild_id, ranking.best.doc_id)
            if entry is not None:
                return Answer(entry, related, ranking.best.confidence)
        asker = Asker(user_id, channel_id, None, self._clock.now())
        item = await self._repository.enqueue(
            guild_id, text, question_key(text), "unanswered", asker
        )
        return Queued(item, related)

    async def feedback(
        self,
        guild_id: int,
        entry_id: int,
        user_id: int,
        helpful: bool,
        *,
        asker_id: int,
        question: str | None,
        channel_id: int | None,
        message_id: int | None,
    ) -> Feedback:
        """A member's Helpful / Not helpful on an answer (one vote each; pressing the other
        button changes it). Only the asker's "not helpful" sends their question to the queue."""
        vote = await self._repository.vote(guild_id, entry_id, user_id, helpful, self._clock.now())
        if vote is None:
            raise NotFound("That answer is no longer in the FAQ.")
        by_asker = user_id == asker_id
        queued = None
        if by_asker and not helpful and vote.changed:
            try:
                text = valid_question(question or "")
            except InvalidInput:
                text = vote.entry.question
            queued = await self._repository.enqueue(
                guild_id,
                text,
                question_key(text),
                "not-helpful",
                Asker(user_id, channel_id, message_id, self._clock.now()),
                shown_entry_id=entry_id,
            )
        return Feedback(vote, by_asker, queued)

    async def page(self, guild_id: int, page: int = 1) -> EntryPage:
        total = await self._repository.count(guild_id)
        pages = _pages(total, PAGE_SIZE)
        page = min(max(page, 1), pages)
        entries = await self._repository.page(guild_id, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        return EntryPage(tuple(entries), page, pages, total)

    async def get(self, guild_id: int, entry_id: int) -> FaqEntry:
        entry = await self._repository.get(guild_id, entry_id)
        if entry is None:
            raise NotFound(NO_SUCH_ENTRY)
        return entry

    async def suggestions(self, guild_id: int, typed: str) -> list[FaqEntry]:
        """Entries for an autocomplete: by id, by words of the question or an alias, then by
        ranking (typos, other phrasings)."""
        faq = self._cache.get(guild_id)
        if faq is None:  # cold: words only now (an autocomplete can't wait), the index later
            self._build_later(guild_id)
            entries = {e.id: e for e in await self._repository.entries(guild_id)}
        else:
            entries = faq.entries
        typed = typed.strip()
        picked: dict[int, FaqEntry] = {}
        reference = entry_reference(typed) or (int(typed) if typed.isdecimal() else None)
        if reference is not None and reference in entries:
            picked[reference] = entries[reference]
        matches = _matcher(typed)
        for entry_id, entry in entries.items():
            if len(picked) >= MAX_SUGGESTIONS:
                break
            if matches(entry.question) or any(matches(a) for a in entry.aliases):
                picked.setdefault(entry_id, entry)
        needle = normalize(typed)
        if faq is not None and needle and len(picked) < MAX_SUGGESTIONS:
            for match in (await _rank(faq.index, typed, MAX_SUGGESTIONS)).candidates:
                if match.doc_id in faq.entries:
                    picked.setdefault(match.doc_id, faq.entries[match.doc_id])
        return list(picked.values())[:MAX_SUGGESTIONS]

    # -- moderators: entries -------------------------------------------------------------------

    async def add(
        self, guild_id: int, user_id: int, question: str, answer: str, aliases: str | None = None
    ) -> FaqEntry:
        """A new entry; `aliases` are other phrasings, comma-separated."""
        data = entry_data(question, answer, split_aliases(aliases, ","))
        async with self._lock(guild_id):
            if await self._repository.count(guild_id) >= MAX_ENTRIES:
                raise LimitReached(f"This FAQ has {MAX_ENTRIES} entries, the most it can hold.")
            try:
                entry = await self._repository.add(guild_id, data, user_id, self._clock.now())
            except QuestionExists as exists:
                raise InvalidInput(
                    f"That question is already entry #{exists.entry_id}: change it with /faq edit."
                ) from None
            await self._put(guild_id, entry)
        return entry

    async def edit(
        self, guild_id: int, entry_id: int, question: str, answer: str, aliases: str | None
    ) -> FaqEntry:
        """Replace an entry's question, answer and other phrasings (one per line)."""
        data = entry_data(question, answer, split_aliases(aliases, "\n"))
        async with self._lock(guild_id):
            try:
                entry = await self._repository.update(guild_id, entry_id, data, self._clock.now())
            except QuestionExists as exists:
                raise InvalidInput(f"Entry #{exists.entry_id} already has that question.") from None
            if entry is None:
                raise NotFound(NO_SUCH_ENTRY)
            await self._put(guild_id, entry)
        self._prune_later(guild_id)  # its former texts
        return entry

    async def remove(self, guild_id: int, entry_id: int) -> FaqEntry:
        async with self._lock(guild_id):
            entry = await self._repository.remove(guild_id, entry_id)
            if entry is None:
                raise NotFound(NO_SUCH_ENTRY)
            cached = self._cache.get(guild_id)
            if cached is not None:
                cached.drop(entry_id)
        self._prune_later(guild_id)
        return entry

    # -- moderators: the queue -----------------------------------------------------------------

    async def queue(self, guild_id: int, page: int = 1) -> QueuePage:
        """Open questions, oldest first, each with the closest entry."""
        total = await self._repository.open_count(guild_id)
        pages = _pages(total, QUEUE_PAGE_SIZE)
        page = min(max(page, 1), pages)
        items = await self._repository.open_items(
            guild_id, (page - 1) * QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE
        )
        faq = await self._faq(guild_id)
        lines = []
        for item in items:
            candidates = (await _rank(faq.index, item.question, 1)).candidates
            closest = faq.known(m.doc_id for m in candidates)
            lines.append(QueueLine(item, closest[0] if closest else None))
        return QueuePage(tuple(lines), page, pages, total)

    async def item_suggestions(self, guild_id: int, typed: str) -> list[QueueItem]:
        """Open queue items for an autocomplete: most asked first."""
        items = await self._repository.open_items(guild_id, limit=500)
        typed = typed.strip()
        matches = _matcher(typed)
        found = [
            item
            for item in items
            if matches(item.question) or str(item.id) == typed.lstrip("#").strip()
        ]
        found.sort(key=lambda item: (-item.ask_count, item.created_at, item.id))
        return found[:MAX_SUGGESTIONS]

    async def answer(
        self, guild_id: int, item_id: int, answer: str, moderator_id: int
    ) -> QueueAnswer:
        """Close a queue item: a new entry with this answer, or (answer ``#12``) the question
        becomes another phrasing of entry 12. Returns whom to tell, and how."""
        item = await self._repository.get_item(guild_id, item_id)
        if item is None:
            raise NotFound(NO_SUCH_ITEM)
        if not item.open:
            raise InvalidInput(f"Question #{item.id} was answered already.")
        target = entry_reference(answer)
        now = self._clock.now()
        async with self._lock(guild_id):
            if target is not None:
                entry = await self._repository.get(guild_id, target)
                if entry is None:
                    raise NotFound(f"There's no entry #{target} to add this question to.")
                learned = merge_aliases(entry.question, entry.aliases, [item.question])
                if len(learned) == len(entry.aliases) and question_key(item.question) not in {
                    question_key(a) for a in (entry.question, *entry.aliases)
                }:
                    raise LimitReached(
                        f"Entry #{target} has as many other phrasings as it can hold: remove "
                        "some with /faq edit first."
                    )

                def merge(current: tuple[str, ...]) -> tuple[str, ...]:
                    return merge_aliases(entry.question, current, [item.question])

                done = await self._repository.answer_item(
                    guild_id, item_id, moderator_id, now, alias_for=(target, merge)
                )
                how: Literal["new-entry", "updated-entry", "alias", "known-alias"] = (
                    "alias" if done and done.entry.aliases != entry.aliases else "known-alias"
                )
            else:
                data = EntryData(item.question, question_key(item.question), valid_answer(answer))
                if await self._repository.find(guild_id, data.question_key) is None and (
                    await self._repository.count(guild_id) >= MAX_ENTRIES
                ):
                    raise LimitReached(
                        f"This FAQ has {MAX_ENTRIES} entries, the most it can hold: answer "
                        "with #id to add the question to an existing entry."
                    )
                done = await self._repository.answer_item(
                    guild_id, item_id, moderator_id, now, new_entry=data
                )
                how = "new-entry" if done and done.created else "updated-entry"
            if done is None:
                raise InvalidInput(f"Question #{item.id} was answered already.")
            await self._put(guild_id, done.entry)
        recipients = []
        for asker in done.item.askers[:MAX_NOTIFIED]:
            prefs = await self._preferences.get(guild_id, asker.user_id)
            recipients.append(
                Recipient(
                    asker.user_id, asker.channel_id, asker.message_id, prefs.reminders_enabled
                )
            )
        return QueueAnswer(done.item, done.entry, how, tuple(recipients))

    async def answered_between(self, guild_id: int, start: datetime, end: datetime) -> int:
        """Questions moderators answered from the queue in [start, end) (weekly summary)."""
        return await self._repository.answered_between(guild_id, start, end)

    # -- moderators: import and export ---------------------------------------------------------

    async def import_file(self, guild_id: int, user_id: int, raw: bytes) -> ImportResult:
        return await self._import(guild_id, user_id, await asyncio.to_thread(parse_exchange, raw))

    async def import_pack(self, guild_id: int, user_id: int, pack: str) -> ImportResult:
        filename = PACKS.get(pack)
        if filename is None:
            raise InvalidInput(f"There's no pack called {preview(pack, 40)}.")
        raw = resources.files("bot.data").joinpath(filename).read_bytes()
        return await self._import(guild_id, user_id, parse_exchange(raw))

    async def _import(self, guild_id: int, user_id: int, entries: list[EntryData]) -> ImportResult:
        async with self._lock(guild_id):
            existing = await self._repository.entries(guild_id)
            known = {question_key(e.question) for e in existing}
            new = sum(1 for data in entries if data.question_key not in known)
            if len(existing) + new > MAX_ENTRIES:
                raise LimitReached(
                    f"That would make {len(existing) + new} entries; an FAQ holds at most "
                    f"{MAX_ENTRIES}. Nothing was imported."
                )

            def merge(current: tuple[str, ...], incoming: tuple[str, ...]) -> tuple[str, ...]:
                # The file's phrasings first, then those the entry learned here.
                return merge_aliases("", incoming, current)

            result = await self._repository.import_entries(
                guild_id, entries, merge, user_id, self._clock.now()
            )
            await self._rebuild(guild_id)
        return ImportResult(len(result.created), len(result.updated))

    async def export(self, guild_id: int, limit: int) -> Export:
        """The guild's FAQ in the exchange format (what import reads back), as a file of at
        most ``limit`` bytes: indented, else compact, else gzipped; LimitReached if even that
        is too big. The work is done in a worker thread."""
        entries = await self._repository.entries(guild_id)
        return await asyncio.to_thread(export_file, entries, limit)

    async def entry_count(self, guild_id: int) -> int:
        return await self._repository.count(guild_id)

    # -- members' data (a contributor to /me data and /me forget) -------------------------------

    async def open_count(self, guild_id: int) -> int:
        """Questions waiting in the moderators' queue."""
        return await self._repository.open_count(guild_id)

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        data = await self._repository.for_member(guild_id, user_id)
        return {
            "faq": {
                "votes": [
                    {"entry_id": v.entry_id, "helpful": v.helpful, "at": v.at.isoformat()}
                    for v in data.votes
                ],
                "questions_asked": [
                    {"question": q.question, "state": q.state, "asked_at": q.asked_at.isoformat()}
                    for q in data.questions
                ],
                "entries_written": list(data.entries_written),
            }
        }

    async def forget_member(self, guild_id: int, user_id: int) -> list[Forgotten]:
        done = await self._repository.delete_member(guild_id, user_id)
        return [
            Forgotten("FAQ votes", done.votes),
            Forgotten("questions you asked the FAQ", done.questions),
            Forgotten("FAQ entries you wrote (they stay)", done.entries_unsigned, ANONYMISED),
            Forgotten(
                "FAQ questions you answered (the answers stay)", done.answers_unsigned, ANONYMISED
            ),
        ]

    async def purge_guild(self, guild_id: int) -> int:
        async with self._lock(guild_id):
            removed = await self._repository.delete_guild(guild_id)
            self._cache.pop(guild_id, None)
        self._locks.pop(guild_id, None)
        return removed
