"""Full-text search, listings and statistics over the catalog.

A query is split into terms (``"red scarf" cat`` → ``red scarf``, ``cat``); an entry matches when
every term is a substring of its prompt, negative prompt, conversation title, model, file name or
``extra`` values, ignoring case. Each term is answered by the cheapest index that can:

- three or more characters, any script: the trigram index (``images_fts``);
- two CJK/emoji characters (``围巾``, ``🐱🧣``): the bigram index (``images_grams``), and one
  (``猫``) a prefix query on it;
- one or two other letters or digits (``8k``, ``ж``): the trigrams that start with them
  (looked up in an fts5vocab view), or the indexed characters that end a value;
- anything else (punctuation, or a short term so common that it is everywhere): a scan,
  newest first, which stops at ``limit``.

Results are newest first (most recently catalogued). Example::

    with open_catalog() as cat:
        for hit in search(cat, "红色围巾", since="7d"):
            print(hit.entry.path, hit.snippet)
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dsexport.catalog.db import _COLUMNS, GRAM_MIN_CODEPOINT, Catalog, Entry, row_to_dict
from dsexport.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_QUERY_CHARS = 1000
"""A longer query is refused: it could only come from a script gone wrong."""

SNIPPET_CHARS = 120
MARK = ("«", "»")
"""Around the matched text in a snippet; prompts use (), [] and {} as weights, rarely guillemets."""

_TERM = re.compile(r'"([^"]*)"|(\S+)')
_RELATIVE = re.compile(r"^(\d{1,6})\s*([hdwmy])$", re.I)
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}

#: Text columns a term may match, in the order a snippet prefers them.
_TEXT_COLUMNS = ("prompt", "negative_prompt", "conversation_title", "model", "search_extra")
_SCAN_TEXT = " || char(10) || ".join(f"coalesce(i.{c}, '')" for c in _TEXT_COLUMNS)


@dataclass(frozen=True)
class Hit:
    """One search result: the catalog row and a short piece of text around the match."""

    entry: Entry
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return {**row_to_dict(self.entry), "snippet": self.snippet}


def parse_terms(query: str) -> list[str]:
    """``'cat "red scarf"'`` → ``["cat", "red scarf"]``; empty quotes are dropped."""
    if len(query) > MAX_QUERY_CHARS:
        msg = f"query is longer than {MAX_QUERY_CHARS} characters"
        raise BadRequest(msg)
    terms = []
    for quoted, bare in _TERM.findall(query):
        term = (quoted or bare).strip()
        if term:
            terms.append(term)
    return terms


def parse_time(text: str | None, *, end: bool = False, now: float | None = None) -> int | None:
    """``--since``/``--until`` → Unix seconds.

    Accepts ``7d`` / ``12h`` / ``2w`` (ago), ``today``, ``yesterday``, a date ``2026-11-25``
    (local midnight; with ``end=True`` the end of that day) or an ISO 8601 time.
    """
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    current = time.time() if now is None else now
    rel = _RELATIVE.match(value)
    if rel:
        return int(current - int(rel.group(1)) * _UNIT_SECONDS[rel.group(2).lower()])
    local_today = (
        datetime.fromtimestamp(current)
        .astimezone()
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    if value.lower() in ("today", "yesterday"):
        day = local_today - timedelta(days=1 if value.lower() == "yesterday" else 0)
        return int((day + timedelta(days=1 if end else 0)).timestamp())
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        msg = f"cannot read the time {value!r}; use YYYY-MM-DD, an ISO 8601 time, or 7d / 12h / 2w"
        raise BadRequest(msg) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a time without offset is the user's local time
    if end and len(value) == 10:  # a bare date: up to the end of that day
        moment += timedelta(days=1)
    return int(moment.timestamp())


def _is_gram_char(ch: str) -> bool:
    return ord(ch) >= GRAM_MIN_CODEPOINT and not ch.isspace()


def _is_short_term(term: str) -> bool:
    """One or two characters the trigram-prefix + end-token route can answer: letters, digits
    or non-ASCII, no whitespace (the ascii tokenizer of the grams index splits on the rest)."""
    return len(term) <= 2 and all((c.isalnum() or ord(c) >= 0x80) and not c.isspace() for c in term)


MAX_PREFIX_TERMS = 400
DENSE_DOCS = 2000
"""A two-character term in at least this many entries is scanned for instead: newest first, a
scan meets ``limit`` matches within a few hundred rows, while collecting every match from the
indexes would cost ~30 ms at 100,000 entries (``8k``)."""


def _trigrams_starting_with(catalog: Catalog, prefix: str) -> list[str] | None:
    """Indexed trigrams that begin with ``prefix`` (case-folded), from an fts5vocab view of the
    trigram index; ``None`` when the term is so common that a scan is the faster route."""
    conn = catalog.connection
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.images_fts_terms"
        " USING fts5vocab(main, 'images_fts', 'row')"
    )
    folded = prefix.lower()
    rows = conn.execute(
        "SELECT term, doc FROM temp.images_fts_terms WHERE term >= ? AND term < ? LIMIT ?",
        (folded, folded + "\U0010ffff", MAX_PREFIX_TERMS + 1),
    ).fetchall()
    terms = [term for term, _ in rows if term.startswith(folded)]
    if len(rows) > MAX_PREFIX_TERMS or sum(doc for _, doc in rows) >= DENSE_DOCS:
        return None
    return terms


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Query:
    source: str
    """``images i``, or a full-text table joined to it that drives the search."""
    where: str
    params: list[Any]
    order: str
    terms: list[str]


def build_query(
    catalog: Catalog,
    query: str = "",
    *,
    since: str | int | None = None,
    until: str | int | None = None,
    conversation: str | None = None,
    model: str | None = None,
) -> _Query:
    """The SQL for a search over ``images i``.

    The first full-text index a term uses drives the query (``ORDER BY rowid DESC`` over it stops
    after ``limit`` rows); other terms and the filters are checked per row. An ``IN (SELECT
    rowid …)`` form would collect every match first: 10-30 ms for a common word at 100,000 rows.
    With ``conversation``, that conversation's rows (indexed) drive instead.
    """
    terms = parse_terms(query)
    trigram = catalog.substring_index
    fts: list[str] = []
    grams: list[str] = []  # MATCH expressions on the grams index
    either: list[tuple[list[str], str]] = []  # (trigram phrases, end-token MATCH): 1-2 chars
    scan: list[str] = []
    for term in terms:
        if len(term) == 1 and conversation:
            # Within one conversation's rows a scan is instant; a prefix query per row is not.
            scan.append(term)
        elif len(term) >= 3 and trigram:
            fts.append(term)
        elif len(term) == 2 and all(_is_gram_char(c) for c in term):
            grams.append(_fts_phrase(term))
        elif len(term) == 1 and _is_gram_char(term):
            grams.append(_fts_phrase(term) + "*")  # bigrams starting with it, or it alone
        elif trigram and _is_short_term(term):
            starts = _trigrams_starting_with(catalog, term)
            if starts is None:
                scan.append(term)
            else:
                # A pair is one end token; one character starts one (``"k"*``).
                either.append((starts, _fts_phrase(term) + ("*" if len(term) == 1 else "")))
        else:
            scan.append(term)
    source, order = "images i", "i.id DESC"
    conds: list[str] = []
    params: list[Any] = []

    def matches(table: str) -> str:
        if conversation:
            # A conversation is a few dozen rows, found by index: test each against the
            # full-text index by rowid (1 ms) rather than collect every match of a common word.
            return f"EXISTS (SELECT 1 FROM {table} WHERE {table} MATCH ? AND rowid = i.id)"
        return f"i.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"

    groups = [("images_fts", [_fts_phrase(t) for t in fts]), ("images_grams", grams)]
    for table, group in groups:
        if not group:
            continue
        if source == "images i" and not conversation:
            source = f"{table} f JOIN images i ON i.id = f.rowid"
            order = "f.rowid DESC"
            conds.append(f"{table} MATCH ?")
        else:
            conds.append(matches(table))
        params.append(" AND ".join(group))
    for starts, end_match in either:
        # Inside a value the term starts some trigram; at a value's end it is an end token.
        options = [matches("images_grams")]
        params.append(end_match)
        if starts:
            options.append(matches("images_fts"))
            params.append(" OR ".join(_fts_phrase(t) for t in starts))
        conds.append("(" + " OR ".join(options) + ")")
    for term in scan:
        # lower() folds ASCII only, which is enough for the short terms that get here.
        conds.append(f"instr(lower({_SCAN_TEXT}), lower(?)) > 0")
        params.append(term)
    start = since if isinstance(since, int) else parse_time(since)
    stop = until if isinstance(until, int) else parse_time(until, end=True)
    if start is not None:
        conds.append("i.captured_ts >= ?")
        params.append(start)
    if stop is not None:
        conds.append("i.captured_ts < ?")
        params.append(stop)
    if conversation:
        conds.append("(i.conversation_id = ? OR i.conversation_title = ? OR i.page_url = ?)")
        params.extend([conversation] * 3)
    if model:
        conds.append("instr(lower(coalesce(i.model, '')), lower(?)) > 0")
        params.append(model)
    return _Query(source, " AND ".join(conds), params, order, terms)


def search(
    catalog: Catalog,
    query: str = "",
    *,
    since: str | int | None = None,
    until: str | int | None = None,
    conversation: str | None = None,
    model: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Hit]:
    """Entries matching every term of ``query`` and every filter, newest first.

    ``limit=None`` returns every match (for bundles). Raises ``BadRequest`` for an unreadable
    ``since``/``until``.
    """
    q = build_query(
        catalog, query, since=since, until=until, conversation=conversation, model=model
    )
    sql = f"SELECT i.id, {', '.join('i.' + c for c in _COLUMNS)} FROM {q.source}"
    if q.where:
        sql += f" WHERE {q.where}"
    sql += f" ORDER BY {q.order}"
    params = list(q.params)
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    rows = catalog.connection.execute(sql, params)
    return [Hit(entry, snippet(entry, q.terms)) for entry in map(_entry, rows)]


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(*row)


def snippet(entry: Entry, terms: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters around the first match, every match in it between ``MARK``s;
    the start of the prompt when nothing matched (or there were no terms)."""
    # Longest first, so "cats" is marked whole when "cat" is a term too.
    ordered = sorted(terms, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in ordered), re.I) if terms else None
    fallback = ""
    for column in _TEXT_COLUMNS:
        text = getattr(entry, column) or ""
        if not text:
            continue
        flat = " ".join(text.split())
        if not fallback and column != "search_extra":
            fallback = flat
        if pattern is None:
            continue
        found = pattern.search(flat)
        if not found:
            continue
        start, stop = found.span()
        room = max(0, width - (stop - start))
        left = max(0, start - room // 3)
        right = min(len(flat), stop + room - (start - left))
        marked = pattern.sub(lambda m: f"{MARK[0]}{m.group(0)}{MARK[1]}", flat[left:right])
        return ("…" if left else "") + marked + ("…" if right < len(flat) else "")
    if len(fallback) > width:
        return fallback[:width] + "…"
    return fallback


# --- listings and statistics -------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One line of ``dsexport list``: a conversation or a day."""

    key: str | None
    """The conversation id or the day (``YYYY-MM-DD``); ``None`` for entries without one."""
    title: str | None
    count: int
    bytes: int
    first: str | None
    last: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "count": self.count,
            "bytes": self.bytes,
            "first": self.first,
            "last": self.last,
        }


#: ``captured_at`` is written in the saver's local offset, so its first ten characters are the
#: day the user saw; rows without one fall back to the (UTC) day they were catalogued.
_DAY = "substr(coalesce(captured_at, saved_at), 1, 10)"


def list_groups(catalog: Catalog, by: str = "conversation") -> list[Group]:
    """Entries grouped by conversation (most recent first) or by day (newest first)."""
    if by == "conversation":
        sql = (
            "SELECT conversation_id, max(conversation_title), count(*), sum(bytes),"
            " min(captured_at), max(captured_at) FROM images GROUP BY conversation_id"
            " ORDER BY max(coalesce(captured_ts, 0)) DESC, max(id) DESC"
        )
    elif by == "day":
        sql = (
            f"SELECT {_DAY}, NULL, count(*), sum(bytes), min(captured_at), max(captured_at)"
            f" FROM images GROUP BY {_DAY} ORDER BY {_DAY} DESC"
        )
    else:
        msg = f"cannot group by {by!r}; use conversation or day"
        raise BadRequest(msg)
    return [
        Group(key, title, int(count), int(total or 0), first, last)
        for key, title, count, total, first, last in catalog.connection.execute(sql)
    ]


def list_entries(
    catalog: Catalog,
    *,
    conversation: str | None = None,
    day: str | None = None,
    limit: int | None = None,
) -> list[Entry]:
    """The entries of one conversation (id, title or page URL) or one day (``YYYY-MM-DD``)."""
    conds, params = [], []
    if conversation is not None:
        conds.append("(conversation_id = ? OR conversation_title = ? OR page_url = ?)")
        params.extend([conversation] * 3)
    if day is not None:
        conds.append(f"{_DAY} = ?")
        params.append(day)
    return catalog.select(" AND ".join(conds), params, order="id DESC", limit=limit)


def stats(catalog: Catalog) -> dict[str, Any]:
    """Counts and sizes: totals, per format, per source, top models, time span."""
    conn = catalog.connection
    count, total, first, last, convs, days = conn.execute(
        f"SELECT count(*), coalesce(sum(bytes), 0), min(captured_at), max(captured_at),"
        f" count(DISTINCT conversation_id), count(DISTINCT {_DAY}) FROM images"
    ).fetchone()

    def breakdown(column: str, top: int | None = None) -> dict[str, dict[str, int]]:
        sql = (
            f"SELECT coalesce({column}, ''), count(*), coalesce(sum(bytes), 0) FROM images"
            f" GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        if top:
            sql += f" LIMIT {int(top)}"
        return {key: {"count": n, "bytes": b} for key, n, b in conn.execute(sql)}

    try:
        db_bytes = sum(
            p.stat().st_size
            for p in (catalog.path, catalog.path.with_name(catalog.path.name + "-wal"))
            if p.exists()
        )
    except OSError:
        db_bytes = None
    return {
        "images": int(count),
        "bytes": int(total),
        "conversations": int(convs),
        "days": int(days),
        "first_captured": first,
        "last_captured": last,
        "formats": breakdown("format"),
        "sources": breakdown("source"),
        "models": breakdown("model", top=10),
        "catalog": str(catalog.path),
        "catalog_bytes": db_bytes,
        "substring_index": catalog.substring_index,
    }
