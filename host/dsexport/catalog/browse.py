"""What the library page asks of the catalog: every match of a search and its filters (newest
first) as a result set it can scroll through, pages of entries, conversations, filter values, and
one entry in full.

A search over 100,000 entries answers its first screen in a few milliseconds (``search.py``
stops at the limit), but *every* match of a short, common term (``c`` while typing ``cat``) takes
150-200 ms to collect. So a ``ResultSet`` answers in two steps: ``first`` entries at once, then
the full id list on a background thread with its own connection (sqlite releases the GIL while it
steps), which ``close()`` interrupts when a newer search replaces it. The list only includes rows
that existed when the search started, so the first page and the full list agree. Example::

    with open_catalog() as cat:
        rs = ResultSet.start(cat, Filters(query="红色围巾", origin="generated"), first=120)
        rs.wait()
        print(rs.total, [card(e) for e in rs.page(cat, 0, 60)])
"""

from __future__ import annotations

import array
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsexport.catalog.db import _COLUMNS, Catalog, Entry, row_to_dict
from dsexport.catalog.search import build_query
from dsexport.errors import BadRequest, NotFound

ORIGINS = ("generated", "uploaded", "diagram")
FORMATS = ("png", "jpeg", "webp", "gif", "avif", "svg")

CARD_PROMPT_CHARS = 100
"""Prompt characters a grid card carries (its tooltip and accessible name); the detail view asks
for the whole entry. Chinese costs 6 bytes a character in an ASCII-escaped reply."""

COVERS = 4
"""Images shown on a conversation card."""


@dataclass(frozen=True)
class Filters:
    """A search and its filters, e.g. ``Filters(query="cat", since="2026-01-01", format="png")``.

    ``conversation`` is a conversation id (or title, or page URL, as ``dsexport search`` takes);
    ``since``/``until`` a date (``YYYY-MM-DD``, ``until`` inclusive) or ``7d``-style age; ``model``
    an exact model name, ``""`` for entries without one; ``origin`` one of ``ORIGINS``; ``format``
    one of ``FORMATS``.
    """

    query: str = ""
    conversation: str | None = None
    since: str | None = None
    until: str | None = None
    model: str | None = None
    origin: str | None = None
    format: str | None = None

    def __post_init__(self) -> None:
        if self.origin is not None and self.origin not in ORIGINS:
            msg = f"origin must be one of {', '.join(ORIGINS)}, not {self.origin!r}"
            raise BadRequest(msg)
        if self.format is not None and self.format not in FORMATS:
            msg = f"format must be one of {', '.join(FORMATS)}, not {self.format!r}"
            raise BadRequest(msg)


@dataclass(frozen=True)
class _Sql:
    source: str
    where: str
    params: list[Any]
    order: str

    def select(self, columns: str, *, upto: int | None = None, limit: int | None = None):
        where, params = self.where, list(self.params)
        if upto is not None:
            where = f"({where}) AND i.id <= ?" if where else "i.id <= ?"
            params.append(upto)
        sql = f"SELECT {columns} FROM {self.source}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {self.order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return sql, params


def _sql(catalog: Catalog, filters: Filters) -> _Sql:
    q = build_query(
        catalog,
        filters.query,
        since=filters.since,
        until=filters.until,
        conversation=filters.conversation,
    )
    conds = [q.where] if q.where else []
    params = list(q.params)
    if filters.model is not None:
        if filters.model:
            conds.append("i.model = ?")
            params.append(filters.model)
        else:
            conds.append("(i.model IS NULL OR i.model = '')")
    if filters.origin is not None:
        # Rows saved before origins existed are generated images (the Metadata default).
        conds.append("coalesce(i.origin, 'generated') = ?")
        params.append(filters.origin)
    if filters.format is not None:
        conds.append("i.format = ?")
        params.append(filters.format)
    return _Sql(q.source, " AND ".join(conds), params, q.order)


_ENTRY_COLUMNS = "i.id, " + ", ".join(f"i.{c}" for c in _COLUMNS)


class ResultSet:
    """Every match of one search, newest first; see the module docstring."""

    def __init__(self, filters: Filters, head: list[Entry], first: int, upto: int) -> None:
        self.filters = filters
        self.head = head
        """The first entries, fetched at once."""
        self._upto = upto
        self._ids: array.array | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conversations: list[ConversationGroup] | None = None
        if len(head) < first:  # the first page held every match
            self._ids = array.array("q", (e.id for e in head))
            self._done.set()

    @classmethod
    def start(
        cls,
        catalog: Catalog,
        filters: Filters,
        *,
        first: int = 120,
        background: bool = True,
        delay: float = 0.0,
    ) -> ResultSet:
        """Fetch the first ``first`` matches now; collect the rest on a thread after ``delay``
        seconds (a search typed a key at a time is usually replaced within that time, and is
        then never collected), or, with ``background=False``, before returning."""
        sql = _sql(catalog, filters)
        upto = catalog.connection.execute("SELECT coalesce(max(id), 0) FROM images").fetchone()[0]
        text, params = sql.select(_ENTRY_COLUMNS, upto=upto, limit=first)
        head = [Entry(*row) for row in catalog.connection.execute(text, params)]
        rs = cls(filters, head, first, int(upto))
        if not rs.complete:
            if background:
                thread = threading.Thread(
                    target=rs._collect,
                    args=(catalog.path, sql, delay),
                    daemon=True,
                    name="dsx-results",
                )
                thread.start()
            else:
                rs._collect(catalog.path, sql, 0.0)
        return rs

    def _collect(self, path: Path, sql: _Sql, delay: float) -> None:
        if self._stop.wait(delay):
            self._finish(None, sqlite3.OperationalError("interrupted"))
            return
        try:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        except sqlite3.Error as err:
            self._finish(None, err)
            return
        with self._lock:
            self._conn = conn
            cancelled = self._stop.is_set()
        try:
            if cancelled:
                raise sqlite3.OperationalError("interrupted")
            text, params = sql.select("i.id", upto=self._upto)
            ids = array.array("q", (row[0] for row in conn.execute(text, params)))
            self._finish(ids, None)
        except sqlite3.Error as err:
            self._finish(None, err)
        finally:
            with self._lock:
                self._conn = None
            conn.close()

    def _finish(self, ids: array.array | None, error: BaseException | None) -> None:
        self._ids, self._error = ids, error
        self._done.set()

    @property
    def complete(self) -> bool:
        return self._done.is_set()

    @property
    def total(self) -> int | None:
        """How many entries match; ``None`` while they are still being collected."""
        return len(self._ids) if self._done.is_set() and self._ids is not None else None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every match is collected; False on timeout. Raises ``NotFound`` if the
        collection was interrupted or failed (the page starts the search again)."""
        if not self._done.wait(timeout):
            return False
        if self._ids is None:
            msg = f"this search was replaced or failed ({self._error}); search again"
            raise NotFound(msg)
        return True

    def ids(self, offset: int, limit: int) -> list[int]:
        """Ids at positions ``offset`` … ``offset + limit - 1`` (waits for the full list when
        they are beyond the first page)."""
        if offset + limit <= len(self.head) and not self.complete:
            return [e.id for e in self.head[offset : offset + limit]]
        self.wait()
        assert self._ids is not None
        return list(self._ids[offset : offset + limit])

    def page(self, catalog: Catalog, offset: int, limit: int) -> list[Entry]:
        """Entries at positions ``offset`` … in result order; rows deleted since the search
        started are left out."""
        if not self.complete and offset + limit <= len(self.head):
            return self.head[offset : offset + limit]
        return entries_by_ids(catalog, self.ids(offset, limit))

    def conversations(self, catalog: Catalog) -> list[ConversationGroup]:
        """The result set grouped by conversation (computed once, when first asked)."""
        if self._conversations is None:
            self.wait()
            assert self._ids is not None
            self._conversations = group_by_conversation(catalog, self._ids)
        return self._conversations

    def close(self) -> None:
        """Stop collecting (a newer search replaced this one)."""
        with self._lock:
            self._stop.set()
            if self._conn is not None:
                self._conn.interrupt()


def entries_by_ids(catalog: Catalog, ids: Sequence[int]) -> list[Entry]:
    """Rows for ``ids`` in the order given (ids with no row are left out)."""
    found: dict[int, Entry] = {}
    step = 500  # below sqlite's smallest host-parameter limit (999)
    for start in range(0, len(ids), step):
        part = list(ids[start : start + step])
        marks = ", ".join("?" for _ in part)
        for row in catalog.connection.execute(
            f"SELECT id, {', '.join(_COLUMNS)} FROM images WHERE id IN ({marks})", part
        ):
            found[row[0]] = Entry(*row)
    return [found[i] for i in ids if i in found]


def card(entry: Entry) -> dict[str, Any]:
    """What a grid tile needs: ``{"id", "format", "width", "height", "prompt", "captured_at",
    "origin", "bytes"}``, the prompt cut to ``CARD_PROMPT_CHARS``."""
    prompt = entry.prompt or ""
    if len(prompt) > CARD_PROMPT_CHARS:
        prompt = prompt[: CARD_PROMPT_CHARS - 1] + "…"
    return {
        "id": entry.id,
        "format": entry.format,
        "width": entry.width,
        "height": entry.height,
        "bytes": entry.bytes,
        "prompt": prompt,
        "captured_at": entry.captured_at,
        "origin": entry.origin or "generated",
    }


# --- one entry in full ------------------------------------------------------------------------

CONVERSATION_URL = "https://chat.deepseek.com/a/chat/s/{}"


def conversation_url(page_url: str | None, conversation_id: str | None) -> str | None:
    """The DeepSeek page of a conversation: ``page_url`` when that is a chat.deepseek.com
    address, else one built from a plain conversation id; ``None`` when neither is usable."""
    import re
    from urllib.parse import urlsplit

    if page_url:
        try:
            parts = urlsplit(page_url)
            usable = (
                parts.scheme == "https"
                and parts.hostname == "chat.deepseek.com"
                and parts.port is None
                and not parts.username
                and not parts.password
            )
        except ValueError:
            usable = False
        if usable:
            return page_url
    if conversation_id and re.fullmatch(r"[A-Za-z0-9_-]{1,128}", conversation_id):
        return CONVERSATION_URL.format(conversation_id)
    return None


def file_state(path: str, entry: Entry | None = None) -> str:
    """``ok``; ``missing`` (gone, or no longer a regular file: moved or deleted); ``changed`` (size
    or time differ from the catalog's record, e.g. edited)."""
    try:
        st = os.lstat(path)
    except OSError:
        return "missing"
    if not stat.S_ISREG(st.st_mode):
        return "missing"
    if entry is not None and (
        st.st_size != entry.bytes
        or (entry.mtime_ns is not None and st.st_mtime_ns != entry.mtime_ns)
    ):
        return "changed"
    return "ok"


def detail(entry: Entry) -> dict[str, Any]:
    """Every catalogued field, the full metadata record, the A1111 parameters text, the
    conversation's page and whether the file is still there."""
    from dsexport.conventions import a1111

    meta = entry.metadata
    parameters = a1111.encode(meta) if meta.prompt or meta.negative_prompt else None
    return {
        "entry": row_to_dict(entry),
        "metadata": meta.to_dict(),
        "parameters": parameters or None,
        "conversation_url": conversation_url(entry.page_url, entry.conversation_id),
        "file": file_state(entry.path, entry),
    }


# --- conversations ----------------------------------------------------------------------------


@dataclass
class ConversationGroup:
    """One conversation of a result set: how many of its images matched and the newest ones."""

    key: str | None
    """Its ``conversation_id``; ``None`` for images saved outside a conversation (imports)."""
    count: int = 0
    covers: list[int] = field(default_factory=list)
    newest: int = 0


def group_by_conversation(catalog: Catalog, ids: Iterable[int]) -> list[ConversationGroup]:
    """Conversations of ``ids`` (newest first), from the conversation index alone: reading the
    rows themselves would cost ten times as much (prompts and records are most of a row)."""
    wanted = set(ids)
    groups: dict[str | None, ConversationGroup] = {}
    rows = catalog.connection.execute(
        "SELECT id, conversation_id FROM images INDEXED BY idx_images_conversation"
    )
    for row_id, key in rows:
        if row_id not in wanted:
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = ConversationGroup(key)
        group.count += 1
        group.newest = max(group.newest, row_id)
        group.covers.append(row_id)
    for group in groups.values():
        group.covers = sorted(group.covers, reverse=True)[:COVERS]
    return sorted(groups.values(), key=lambda g: g.newest, reverse=True)


def describe_conversations(
    catalog: Catalog, groups: Sequence[ConversationGroup]
) -> list[dict[str, Any]]:
    """Title, dates and page of each group (one indexed query for the page of groups)."""
    keys = [g.key for g in groups if g.key is not None]
    facts: dict[str | None, tuple] = {}
    if keys:
        marks = ", ".join("?" for _ in keys)
        for key, title, first, last, url, total in catalog.connection.execute(
            "SELECT conversation_id, max(conversation_title), min(captured_at), max(captured_at),"
            f" max(page_url), count(*) FROM images WHERE conversation_id IN ({marks})"
            " GROUP BY conversation_id",
            keys,
        ):
            facts[key] = (title, first, last, url, total)
    if any(g.key is None for g in groups):
        facts[None] = catalog.connection.execute(
            "SELECT NULL, min(captured_at), max(captured_at), NULL, count(*) FROM images"
            " WHERE conversation_id IS NULL"
        ).fetchone()
    out = []
    for group in groups:
        title, first, last, url, total = facts.get(group.key, (None, None, None, None, 0))
        out.append(
            {
                "id": group.key,
                "title": title,
                "count": group.count,
                "total": int(total or 0),
                "first": first,
                "last": last,
                "url": conversation_url(url, group.key) if group.key is not None else None,
                "covers": group.covers,
            }
        )
    return out


# --- filter values ----------------------------------------------------------------------------


def facets(catalog: Catalog, *, models: int = 50) -> dict[str, Any]:
    """What the filters offer: the models in use (the ``models`` most used, with counts) and the
    time span of the catalog. Answered from indexes only (a few ms at 100,000 entries); formats
    and origins are fixed lists (``FORMATS``, ``ORIGINS``), whose counts would need a full scan.
    """
    conn = catalog.connection
    total = conn.execute("SELECT count(*) FROM images").fetchone()[0]
    first = conn.execute("SELECT min(captured_at) FROM images").fetchone()[0]
    last = conn.execute("SELECT max(captured_at) FROM images").fetchone()[0]
    model_rows = conn.execute(
        "SELECT coalesce(model, ''), count(*) FROM images INDEXED BY idx_images_model"
        " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
        (models,),
    ).fetchall()
    return {
        "total": int(total),
        "first": first,
        "last": last,
        "models": [{"value": m, "count": n} for m, n in model_rows],
        "formats": list(FORMATS),
        "origins": list(ORIGINS),
    }
