"""FAQ entries, members' votes on them, and the moderators' queue of open questions.

Everything is scoped by guild in its WHERE clause, so an id from another guild matches nothing.
Normalised keys (``question_key``) are computed by the caller; this module only stores them.

Read-modify-write changes (aliases, votes, answering a queue item) start with a write to the row
they depend on, inside one transaction: on PostgreSQL that locks the row, and on SQLite (which
begins a transaction at the first write) it takes the database's write lock, so concurrent
changes queue up instead of overwriting each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.dialect import batches, insert
from db.schema.faq import faq_entries, faq_queue, faq_queue_askers, faq_vectors, faq_votes
from db.types import AnyRow
from db.upsert import upsert

Reason = Literal["unanswered", "not-helpful"]
# Computes an entry's new aliases from its current ones (may raise to cancel the change).
AliasMerge = Callable[[tuple[str, ...]], tuple[str, ...]]


class QuestionExists(Exception):
    """Another entry of the guild already has this (normalised) question."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"entry {entry_id} has this question")
        self.entry_id = entry_id


@dataclass(frozen=True)
class FaqEntry:
    id: int
    guild_id: int
    question: str
    answer: str
    aliases: tuple[str, ...]
    tags: tuple[str, ...]
    usage_count: int
    helpful_count: int
    not_helpful_count: int
    created_by: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EntryData:
    """What an add, an edit or an import writes (already validated)."""

    question: str
    question_key: str
    answer: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Asker:
    user_id: int
    channel_id: int | None
    message_id: int | None
    asked_at: datetime


@dataclass(frozen=True)
class QueueItem:
    id: int
    guild_id: int
    question: str
    reason: str
    state: str
    ask_count: int
    shown_entry_id: int | None
    answered_entry_id: int | None
    answered_by: int | None
    created_at: datetime
    last_asked_at: datetime
    answered_at: datetime | None
    askers: tuple[Asker, ...] = ()

    @property
    def open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class Vote:
    entry: FaqEntry
    # The member's vote before this one (None: first vote).
    previous: bool | None
    helpful: bool

    @property
    def changed(self) -> bool:
        return self.previous is not self.helpful


@dataclass(frozen=True)
class Answered:
    item: QueueItem
    entry: FaqEntry
    # A new entry was made (otherwise an existing one got the answer or the alias).
    created: bool


@dataclass(frozen=True)
class Imported:
    created: tuple[FaqEntry, ...]
    updated: tuple[FaqEntry, ...]


@dataclass(frozen=True)
class MemberVote:
    entry_id: int
    helpful: bool
    at: datetime


@dataclass(frozen=True)
class MemberQuestion:
    item_id: int
    question: str
    state: str
    asked_at: datetime


@dataclass(frozen=True)
class MemberFaqData:
    votes: tuple[MemberVote, ...]
    questions: tuple[MemberQuestion, ...]
    entries_written: tuple[int, ...]


@dataclass(frozen=True)
class MemberFaqForgotten:
    votes: int
    questions: int
    entries_unsigned: int
    answers_unsigned: int


_E = faq_entries.c
_Q = faq_queue.c
_A = faq_queue_askers.c
_V = faq_vectors.c
_ENTRY_COLUMNS = (
    _E.id,
    _E.guild_id,
    _E.question,
    _E.answer,
    _E.aliases,
    _E.tags,
    _E.usage_count,
    _E.helpful_count,
    _E.not_helpful_count,
    _E.created_by,
    _E.created_at,
    _E.updated_at,
)
_ITEM_COLUMNS = (
    _Q.id,
    _Q.guild_id,
    _Q.question,
    _Q.reason,
    _Q.state,
    _Q.ask_count,
    _Q.shown_entry_id,
    _Q.answered_entry_id,
    _Q.answered_by,
    _Q.created_at,
    _Q.last_asked_at,
    _Q.answered_at,
)


def _entry(row: AnyRow) -> FaqEntry:
    m = dict(row._mapping)
    m["aliases"] = tuple(m["aliases"] or ())
    m["tags"] = tuple(m["tags"] or ())
    return FaqEntry(**m)


def _item(row: AnyRow, askers: Sequence[Asker] = ()) -> QueueItem:
    return QueueItem(**row._mapping, askers=tuple(askers))


# Entry and item ids are 32-bit; a larger one (a forged button, a typed number) names nothing.
_ID_MAX = 2**31 - 1


def _valid(row_id: int) -> bool:
    return 0 < row_id <= _ID_MAX


def _in_guild(guild_id: int, entry_id: int) -> ColumnElement[bool]:
    return (_E.id == entry_id) & (_E.guild_id == guild_id)


class FaqRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- entries -------------------------------------------------------------------------------

    async def entries(self, guild_id: int) -> list[FaqEntry]:
        """Every entry of the guild, oldest first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_ENTRY_COLUMNS).where(_E.guild_id == guild_id).order_by(_E.id)
            )
            return [_entry(row) for row in rows]

    async def guilds_with_entries(self) -> list[int]:
        """Guilds that have at least one entry (their indexes are built at start-up)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(_E.guild_id).distinct().order_by(_E.guild_id))
            return [row[0] for row in rows]

    async def page(self, guild_id: int, offset: int, limit: int) -> list[FaqEntry]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_ENTRY_COLUMNS)
                .where(_E.guild_id == guild_id)
                .order_by(_E.id)
                .offset(offset)
                .limit(limit)
            )
            return [_entry(row) for row in rows]

    async def count(self, guild_id: int) -> int:
        async with self._engine.connect() as conn:
            total = await conn.scalar(
                select(func.count()).select_from(faq_entries).where(_E.guild_id == guild_id)
            )
        return int(total or 0)

    async def get(self, guild_id: int, entry_id: int) -> FaqEntry | None:
        if not _valid(entry_id):
            return None
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(*_ENTRY_COLUMNS).where(_in_guild(guild_id, entry_id)))
            ).first()
        return _entry(row) if row else None

    async def find(self, guild_id: int, question_key: str) -> FaqEntry | None:
        async with self._engine.connect() as conn:
            return await _find(conn, guild_id, question_key)

    async def add(
        self, guild_id: int, data: EntryData, created_by: int | None, now: datetime
    ) -> FaqEntry:
        """A new entry; raises QuestionExists when the guild has this question already."""
        async with self._engine.begin() as conn:
            entry = await _insert_entry(conn, guild_id, data, created_by, now)
            if entry is None:
                existing = await _find(conn, guild_id, data.question_key)
                raise QuestionExists(existing.id if existing else 0)
            return entry

    async def update(
        self, guild_id: int, entry_id: int, data: EntryData, now: datetime
    ) -> FaqEntry | None:
        """Replace question, answer and aliases (tags stay); None when there is no such entry.
        Raises QuestionExists when another entry has the new question."""
        if not _valid(entry_id):
            return None
        try:
            async with self._engine.begin() as conn:
                row = (
                    await conn.execute(
                        update(faq_entries)
                        .where(_in_guild(guild_id, entry_id))
                        .values(
                            question=data.question,
                            question_key=data.question_key,
                            answer=data.answer,
                            aliases=list(data.aliases),
                            revision=_E.revision + 1,
                            updated_at=now,
                        )
                        .returning(*_ENTRY_COLUMNS)
                    )
                ).first()
        except IntegrityError:
            existing = await self.find(guild_id, data.question_key)
            raise QuestionExists(existing.id if existing else 0) from None
        return _entry(row) if row else None

    async def merge_aliases(
        self, guild_id: int, entry_id: int, merge: AliasMerge, now: datetime
    ) -> FaqEntry | None:
        """Apply `merge` to the entry's aliases atomically; None when there is no such entry."""
        if not _valid(entry_id):
            return None
        async with self._engine.begin() as conn:
            return await _merge_aliases(conn, guild_id, entry_id, merge, now)

    async def remove(self, guild_id: int, entry_id: int) -> FaqEntry | None:
        if not _valid(entry_id):
            return None
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    delete(faq_entries)
                    .where(_in_guild(guild_id, entry_id))
                    .returning(*_ENTRY_COLUMNS)
                )
            ).first()
        return _entry(row) if row else None

    async def record_use(self, guild_id: int, entry_id: int) -> FaqEntry | None:
        """Count one answer given with this entry."""
        if not _valid(entry_id):
            return None
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    update(faq_entries)
                    .where(_in_guild(guild_id, entry_id))
                    .values(usage_count=_E.usage_count + 1)
                    .returning(*_ENTRY_COLUMNS)
                )
            ).first()
        return _entry(row) if row else None

    async def import_entries(
        self,
        guild_id: int,
        entries: Sequence[EntryData],
        merge: Callable[[tuple[str, ...], tuple[str, ...]], tuple[str, ...]],
        created_by: int | None,
        now: datetime,
    ) -> Imported:
        """Add or update (by question key) every entry, all or nothing. An updated entry takes
        the new question text, answer and tags; its aliases become ``merge(current, new)``."""
        created: list[FaqEntry] = []
        updated: list[FaqEntry] = []
        async with self._engine.begin() as conn:
            for data in entries:
                row = (
                    await conn.execute(
                        update(faq_entries)
                        .where(_E.guild_id == guild_id, _E.question_key == data.question_key)
                        .values(revision=_E.revision + 1, updated_at=now)
                        .returning(*_ENTRY_COLUMNS)
                    )
                ).first()
                if row is None:
                    entry = await _insert_entry(conn, guild_id, data, created_by, now)
                    if entry is None:  # the same key twice in one import: callers prevent it
                        raise QuestionExists(0)
                    created.append(entry)
                    continue
                current = _entry(row)
                row = (
                    await conn.execute(
                        update(faq_entries)
                        .where(_E.id == current.id)
                        .values(
                            question=data.question,
                            answer=data.answer,
                            aliases=list(merge(current.aliases, data.aliases)),
                            tags=list(data.tags),
                        )
                        .returning(*_ENTRY_COLUMNS)
                    )
                ).one()
                updated.append(_entry(row))
        return Imported(tuple(created), tuple(updated))

    # -- votes ---------------------------------------------------------------------------------

    async def vote(
        self, guild_id: int, entry_id: int, user_id: int, helpful: bool, now: datetime
    ) -> Vote | None:
        """Record the member's vote (one per member and entry; voting again changes it) and
        keep the entry's totals in step. None when the guild has no such entry."""
        if await self.get(guild_id, entry_id) is None:
            return None
        try:
            async with self._engine.begin() as conn:
                inserted = (
                    await conn.execute(
                        upsert(
                            conn.dialect.name,
                            faq_votes,
                            {
                                "entry_id": entry_id,
                                "user_id": user_id,
                                "guild_id": guild_id,
                                "helpful": helpful,
                                "created_at": now,
                                "updated_at": now,
                            },
                            conflict=["entry_id", "user_id"],
                            update=[],
                        ).returning(faq_votes.c.user_id)
                    )
                ).first()
                if inserted is not None:
                    entry = await _count_vote(conn, entry_id, helpful, +1)
                    return Vote(entry, None, helpful)
                changed = (
                    await conn.execute(
                        update(faq_votes)
                        .where(
                            faq_votes.c.entry_id == entry_id,
                            faq_votes.c.user_id == user_id,
                            faq_votes.c.helpful != helpful,
                        )
                        .values(helpful=helpful, updated_at=now)
                        .returning(faq_votes.c.user_id)
                    )
                ).first()
                if changed is None:
                    row = (
                        await conn.execute(select(*_ENTRY_COLUMNS).where(_E.id == entry_id))
                    ).one()
                    return Vote(_entry(row), helpful, helpful)
                await _count_vote(conn, entry_id, not helpful, -1)
                entry = await _count_vote(conn, entry_id, helpful, +1)
                return Vote(entry, not helpful, helpful)
        except IntegrityError:  # the entry was removed meanwhile
            return None

    # -- queue ---------------------------------------------------------------------------------

    async def enqueue(
        self,
        guild_id: int,
        question: str,
        question_key: str,
        reason: Reason,
        asker: Asker,
        shown_entry_id: int | None = None,
    ) -> QueueItem:
        """Add the question to the open queue, or count it again on the open item that has the
        same key (the asker is remembered, with where to answer them)."""
        now = asker.asked_at
        async with self._engine.begin() as conn:
            dialect = conn.dialect.name
            stmt = (
                insert(dialect, faq_queue)
                .values(
                    guild_id=guild_id,
                    question=question,
                    question_key=question_key,
                    open_key=question_key,
                    reason=reason,
                    state="open",
                    ask_count=1,
                    shown_entry_id=shown_entry_id,
                    created_at=now,
                    last_asked_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["guild_id", "open_key"],
                    set_={"ask_count": _Q.ask_count + 1, "last_asked_at": now},
                )
            )
            item_id = (await conn.execute(stmt.returning(_Q.id))).scalar_one()
            await conn.execute(
                upsert(
                    dialect,
                    faq_queue_askers,
                    {
                        "item_id": item_id,
                        "user_id": asker.user_id,
                        "channel_id": asker.channel_id,
                        "message_id": asker.message_id,
                        "asked_at": now,
                    },
                    conflict=["item_id", "user_id"],
                    update=["channel_id", "message_id", "asked_at"],
                )
            )
            found = await _items(conn, _Q.id == item_id)
        return found[0]

    async def get_item(self, guild_id: int, item_id: int) -> QueueItem | None:
        if not _valid(item_id):
            return None
        async with self._engine.connect() as conn:
            found = await _items(conn, _Q.id == item_id, _Q.guild_id == guild_id)
        return found[0] if found else None

    async def open_items(
        self, guild_id: int, offset: int = 0, limit: int | None = None
    ) -> list[QueueItem]:
        """Open items, oldest first."""
        async with self._engine.connect() as conn:
            return await _items(
                conn, _Q.guild_id == guild_id, _Q.state == "open", offset=offset, limit=limit
            )

    async def open_count(self, guild_id: int) -> int:
        async with self._engine.connect() as conn:
            total = await conn.scalar(
                select(func.count())
                .select_from(faq_queue)
                .where(_Q.guild_id == guild_id, _Q.state == "open")
            )
        return int(total or 0)

    async def answer_item(
        self,
        guild_id: int,
        item_id: int,
        answered_by: int,
        now: datetime,
        *,
        new_entry: EntryData | None = None,
        alias_for: tuple[int, AliasMerge] | None = None,
    ) -> Answered | None:
        """Close an open item with an entry, all or nothing: either ``new_entry`` (when its
        question exists, that entry's answer is replaced) or ``alias_for`` = (entry id, how
        its aliases change). None when the item is not open (answered meanwhile, or unknown);
        LookupError when the entry to alias is gone."""
        if (new_entry is None) == (alias_for is None):
            raise ValueError("give exactly one of new_entry and alias_for")
        if not _valid(item_id):
            return None
        async with self._engine.begin() as conn:
            claimed = (
                await conn.execute(
                    update(faq_queue)
                    .where(_Q.id == item_id, _Q.guild_id == guild_id, _Q.state == "open")
                    .values(
                        state="answered", open_key=None, answered_by=answered_by, answered_at=now
                    )
                    .returning(_Q.id)
                )
            ).first()
            if claimed is None:
                return None
            created = False
            if alias_for is not None:
                entry_id, merge = alias_for
                if not _valid(entry_id):
                    raise LookupError(entry_id)
                entry = await _merge_aliases(conn, guild_id, entry_id, merge, now)
                if entry is None:
                    raise LookupError(entry_id)
            else:
                assert new_entry is not None
                inserted = None
                if await _lock_by_key(conn, guild_id, new_entry.question_key, now) is None:
                    inserted = await _insert_entry(conn, guild_id, new_entry, answered_by, now)
                created = inserted is not None
                if inserted is None:  # the question exists: it gets this answer
                    row = (
                        await conn.execute(
                            update(faq_entries)
                            .where(
                                _E.guild_id == guild_id,
                                _E.question_key == new_entry.question_key,
                            )
                            .values(answer=new_entry.answer, updated_at=now)
                            .returning(*_ENTRY_COLUMNS)
                        )
                    ).one()
                    inserted = _entry(row)
                entry = inserted
            await conn.execute(
                update(faq_queue).where(_Q.id == item_id).values(answered_entry_id=entry.id)
            )
            item = (await _items(conn, _Q.id == item_id))[0]
        return Answered(item, entry, created)

    async def answered_between(self, guild_id: int, start: datetime, end: datetime) -> int:
        """Queue items answered in [start, end)."""
        async with self._engine.connect() as conn:
            total = await conn.scalar(
                select(func.count())
                .select_from(faq_queue)
                .where(
                    _Q.guild_id == guild_id,
                    _Q.state == "answered",
                    _Q.answered_at >= start,
                    _Q.answered_at < end,
                )
            )
        return int(total or 0)

    # -- members and guilds --------------------------------------------------------------------

    async def for_member(self, guild_id: int, user_id: int) -> MemberFaqData:
        """A member's votes, the questions they asked and the entries they wrote (export)."""
        async with self._engine.connect() as conn:
            votes = await conn.execute(
                select(faq_votes.c.entry_id, faq_votes.c.helpful, faq_votes.c.updated_at)
                .where(faq_votes.c.guild_id == guild_id, faq_votes.c.user_id == user_id)
                .order_by(faq_votes.c.entry_id)
            )
            asked = await conn.execute(
                select(_Q.id, _Q.question, _Q.state, _A.asked_at)
                .join(faq_queue_askers, _A.item_id == _Q.id)
                .where(_Q.guild_id == guild_id, _A.user_id == user_id)
                .order_by(_Q.id)
            )
            written = await conn.execute(
                select(_E.id)
                .where(_E.guild_id == guild_id, _E.created_by == user_id)
                .order_by(_E.id)
            )
            return MemberFaqData(
                tuple(MemberVote(r.entry_id, bool(r.helpful), r.updated_at) for r in votes),
                tuple(MemberQuestion(r.id, r.question, r.state, r.asked_at) for r in asked),
                tuple(r.id for r in written),
            )

    async def delete_member(self, guild_id: int, user_id: int) -> MemberFaqForgotten:
        """Forget a member: their votes (the totals follow), their place among askers, open
        questions only they asked; entries they wrote and answers they gave stay, unsigned."""
        async with self._engine.begin() as conn:
            votes = (
                await conn.execute(
                    delete(faq_votes)
                    .where(faq_votes.c.guild_id == guild_id, faq_votes.c.user_id == user_id)
                    .returning(faq_votes.c.entry_id, faq_votes.c.helpful)
                )
            ).all()
            for vote in votes:
                await _count_vote(conn, vote.entry_id, bool(vote.helpful), -1)
            asked = (
                await conn.execute(
                    delete(faq_queue_askers)
                    .where(
                        _A.user_id == user_id,
                        _A.item_id.in_(select(_Q.id).where(_Q.guild_id == guild_id)),
                    )
                    .returning(_A.item_id)
                )
            ).all()
            await conn.execute(
                delete(faq_queue).where(
                    _Q.guild_id == guild_id,
                    _Q.state == "open",
                    _Q.id.in_([row.item_id for row in asked]),
                    ~exists().where(_A.item_id == _Q.id),
                )
            )
            entries = await conn.execute(
                update(faq_entries)
                .where(_E.guild_id == guild_id, _E.created_by == user_id)
                .values(created_by=None)
            )
            answers = await conn.execute(
                update(faq_queue)
                .where(_Q.guild_id == guild_id, _Q.answered_by == user_id)
                .values(answered_by=None)
            )
        return MemberFaqForgotten(
            len(votes), len(asked), int(entries.rowcount or 0), int(answers.rowcount or 0)
        )

    # -- stored embeddings ---------------------------------------------------------------------

    async def vectors(self, guild_id: int, model: str) -> dict[bytes, bytes]:
        """The guild's stored vectors made by ``model``: text digest -> vector bytes."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_V.digest, _V.vector).where(_V.guild_id == guild_id, _V.model == model)
            )
            return {bytes(digest): bytes(vector) for digest, vector in rows}

    async def store_vectors(self, guild_id: int, model: str, vectors: dict[bytes, bytes]) -> None:
        """Keep ``vectors`` (digest -> bytes); a digest already stored keeps its row (the same
        text gives the same vector)."""
        if not vectors:
            return
        rows = [
            {"guild_id": guild_id, "model": model, "digest": digest, "vector": vector}
            for digest, vector in vectors.items()
        ]
        async with self._engine.begin() as conn:
            stmt = insert(conn.dialect.name, faq_vectors).on_conflict_do_nothing(
                index_elements=["guild_id", "model", "digest"]
            )
            for batch in batches(rows):
                await conn.execute(stmt, batch)

    async def prune_vectors(self, guild_id: int, model: str, keep: set[bytes]) -> int:
        """Delete the guild's vectors other than ``model``'s of the ``keep`` digests (texts no
        entry uses any more, or made by another model). Returns how many were deleted."""
        deleted = 0
        async with self._engine.begin() as conn:
            stale = await conn.execute(
                delete(faq_vectors).where(_V.guild_id == guild_id, _V.model != model)
            )
            deleted += int(stale.rowcount or 0)
            stored = await conn.execute(
                select(_V.digest).where(_V.guild_id == guild_id, _V.model == model)
            )
            unused = [bytes(row[0]) for row in stored if bytes(row[0]) not in keep]
            for batch in batches(unused):
                result = await conn.execute(
                    delete(faq_vectors).where(
                        _V.guild_id == guild_id,
                        _V.model == model,
                        _V.digest.in_(batch),
                    )
                )
                deleted += int(result.rowcount or 0)
        return deleted

    async def delete_guild(self, guild_id: int) -> int:
        async with self._engine.begin() as conn:
            await conn.execute(delete(faq_vectors).where(_V.guild_id == guild_id))
            items = await conn.execute(delete(faq_queue).where(_Q.guild_id == guild_id))
            entries = await conn.execute(delete(faq_entries).where(_E.guild_id == guild_id))
        return int(items.rowcount or 0) + int(entries.rowcount or 0)


# ------------------------------------------------------------------------------------ helpers


async def _find(conn: AsyncConnection, guild_id: int, question_key: str) -> FaqEntry | None:
    row = (
        await conn.execute(
            select(*_ENTRY_COLUMNS).where(_E.guild_id == guild_id, _E.question_key == question_key)
        )
    ).first()
    return _entry(row) if row else None


async def _insert_entry(
    conn: AsyncConnection, guild_id: int, data: EntryData, created_by: int | None, now: datetime
) -> FaqEntry | None:
    """Insert, or None when the guild has the question already."""
    row = (
        await conn.execute(
            upsert(
                conn.dialect.name,
                faq_entries,
                {
                    "guild_id": guild_id,
                    "question": data.question,
                    "question_key": data.question_key,
                    "answer": data.answer,
                    "aliases": list(data.aliases),
                    "tags": list(data.tags),
                    "created_by": created_by,
                    "created_at": now,
                    "updated_at": now,
                },
                conflict=["guild_id", "question_key"],
                update=[],
            ).returning(*_ENTRY_COLUMNS)
        )
    ).first()
    return _entry(row) if row else None


async def _lock_by_key(
    conn: AsyncConnection, guild_id: int, question_key: str, now: datetime
) -> FaqEntry | None:
    row = (
        await conn.execute(
            update(faq_entries)
            .where(_E.guild_id == guild_id, _E.question_key == question_key)
            .values(revision=_E.revision + 1, updated_at=now)
            .returning(*_ENTRY_COLUMNS)
        )
    ).first()
    return _entry(row) if row else None


async def _merge_aliases(
    conn: AsyncConnection, guild_id: int, entry_id: int, merge: AliasMerge, now: datetime
) -> FaqEntry | None:
    # The first statement writes, so the row (PostgreSQL) or database (SQLite) is locked
    # before the aliases are read.
    row = (
        await conn.execute(
            update(faq_entries)
            .where(_in_guild(guild_id, entry_id))
            .values(revision=_E.revision + 1, updated_at=now)
            .returning(*_ENTRY_COLUMNS)
        )
    ).first()
    if row is None:
        return None
    current = _entry(row)
    aliases = merge(current.aliases)
    if aliases == current.aliases:
        return current
    row = (
        await conn.execute(
            update(faq_entries)
            .where(_E.id == entry_id)
            .values(aliases=list(aliases))
            .returning(*_ENTRY_COLUMNS)
        )
    ).one()
    return _entry(row)


async def _count_vote(conn: AsyncConnection, entry_id: int, helpful: bool, step: int) -> FaqEntry:
    column = _E.helpful_count if helpful else _E.not_helpful_count
    row = (
        await conn.execute(
            update(faq_entries)
            .where(_E.id == entry_id)
            .values({column: column + step})
            .returning(*_ENTRY_COLUMNS)
        )
    ).one()
    return _entry(row)


async def _items(
    conn: AsyncConnection,
    *where: ColumnElement[bool],
    offset: int = 0,
    limit: int | None = None,
) -> list[QueueItem]:
    query = select(*_ITEM_COLUMNS).where(*where).order_by(_Q.created_at, _Q.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    askers: dict[int, list[Asker]] = {}
    found = await conn.execute(
        select(_A.item_id, _A.user_id, _A.channel_id, _A.message_id, _A.asked_at)
        .where(_A.item_id.in_([row.id for row in rows]))
        .order_by(_A.asked_at, _A.user_id)
    )
    for a in found:
        askers.setdefault(a.item_id, []).append(
            Asker(a.user_id, a.channel_id, a.message_id, a.asked_at)
        )
    return [_item(row, askers.get(row.id, ())) for row in rows]
