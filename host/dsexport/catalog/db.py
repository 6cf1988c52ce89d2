"""The catalog database: one sqlite3 file, ``<data_dir>/catalog.sqlite3``.

Several processes use it at once (one native host per browser window, the CLI), so it runs in WAL
mode with a busy timeout, and ``Catalog.save_lock()`` is a ``BEGIN IMMEDIATE`` transaction: the
pipeline holds it around "is this image already saved? if not, write it and record it", which
makes that check-then-write atomic across processes. Example::

    with open_catalog() as catalog, catalog.save_lock():
        if catalog.find_duplicate(content, "png", "/home/ana/Pictures/DeepSeek") is None:
            path = storage.write_new(...)
            catalog.add(path=str(path), sha256=sha, content_sha256=content, format="png", …)

Identity is always computed from bytes: ``content_sha256`` is the container module's
``content_digest`` of the file (the picture without its metadata), computed by whoever read or
wrote those bytes, never a hash a file states about itself.

Schema changes are numbered migrations (``MIGRATIONS``): append one, never edit one. The
``schema_version`` table records how many have run. A migration step is SQL text or a
function taking the connection (for back-filling columns computed in Python). A catalog file
that sqlite reports as not a database or malformed is moved aside
(``catalog.sqlite3.corrupt-<time>``) and a new one started; ``dsexport reindex`` can rebuild it
from the files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dsexport.model import Metadata

log = logging.getLogger(__name__)

CATALOG_FILENAME = "catalog.sqlite3"
BUSY_TIMEOUT_MS = 30_000
"""How long a process waits for another one's save to finish before giving up."""

_INT64_MAX = 2**63 - 1

#: Columns of the trigram index (all text people search by).
_FTS_COLUMNS = ("prompt", "negative_prompt", "conversation_title", "model", "search_extra")

MAX_SEARCH_EXTRA = 4000
"""Characters of ``extra`` values and the file name kept for search; a hostile record with a
megabyte of ``extra`` must not bloat the index."""

GRAM_MIN_CODEPOINT = 0x2E80
"""Characters from here on (CJK radicals, kana, Hangul, CJK ideographs, emoji…) form the bigrams
that answer two-character queries. Latin, Greek, Cyrillic words are found by the trigram index."""


def _fts_triggers() -> tuple[str, ...]:
    cols = ", ".join(_FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in _FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in _FTS_COLUMNS)
    delete_old = (
        f"INSERT INTO images_fts (images_fts, rowid, {cols}) VALUES ('delete', old.id, {old});"
        " INSERT INTO images_grams (images_grams, rowid, search_grams)"
        " VALUES ('delete', old.id, old.search_grams);"
    )
    insert_new = (
        f"INSERT INTO images_fts (rowid, {cols}) VALUES (new.id, {new});"
        " INSERT INTO images_grams (rowid, search_grams) VALUES (new.id, new.search_grams);"
    )
    return (
        f"CREATE TRIGGER images_fts_ai AFTER INSERT ON images BEGIN {insert_new} END",
        f"CREATE TRIGGER images_fts_ad AFTER DELETE ON images BEGIN {delete_old} END",
        # Only when indexed text changes: moving a file (check) or touching mtime costs nothing.
        f"CREATE TRIGGER images_fts_au AFTER UPDATE OF {cols}, search_grams ON images "
        f"BEGIN {delete_old} {insert_new} END",
    )


def search_grams(text: str) -> str:
    """``"红色围巾 cat"`` → ``"红色 色围 围巾 巾"``: adjacent pairs of non-Latin characters, plus
    the last character of each run alone, so that every such character starts some token and a
    one-character query is a prefix query (``"巾"*``)."""
    grams: list[str] = []
    prev = ""
    for ch in text:
        if ord(ch) >= GRAM_MIN_CODEPOINT and not ch.isspace():
            if prev:
                grams.append(prev + ch)
            prev = ch
        else:
            if prev:
                grams.append(prev)
            prev = ""
    if prev:
        grams.append(prev)
    # Repeats add nothing to a match and only grow the index.
    return " ".join(dict.fromkeys(grams))


def end_tokens(values: Sequence[str | None]) -> list[str]:
    """The last two characters of each value, and the last one alone (``"…8k"`` → ``8k``, ``k``).

    A query of one or two characters is answered from the trigram index by the trigrams that
    *start* with it; only an occurrence in a value's last two characters is in no such trigram,
    so those are indexed here. Stored raw: the ascii tokenizer drops ASCII punctuation and
    spaces, so ``"k."`` is indexed as ``k``, which is still where that ``k`` is."""
    out = []
    for value in values:
        if value:
            out.extend((value[-2:], value[-1:]) if len(value) >= 2 else (value,))
    return out


def _extra_text(value: Any, out: list[str], budget: list[int]) -> None:
    if budget[0] <= 0:
        return
    if isinstance(value, str):
        piece = value[: budget[0]]
        out.append(piece)
        budget[0] -= len(piece) + 1
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out.append(str(value))
    elif isinstance(value, dict):
        for item in value.values():
            _extra_text(item, out, budget)
    elif isinstance(value, list | tuple):
        for item in value:
            _extra_text(item, out, budget)


def search_extra(meta: Metadata, path: str) -> str:
    """The searchable text besides prompt/title/model: the file name, sampler, ``extra`` values."""
    out = [os.path.basename(path)]
    if meta.sampler:
        out.append(meta.sampler)
    _extra_text(meta.extra, out, [MAX_SEARCH_EXTRA])
    return "\n".join(out)[:MAX_SEARCH_EXTRA]


def captured_timestamp(iso: str | None) -> int | None:
    """ISO 8601 → Unix seconds (a time without offset is taken as UTC), ``None`` if unparsable."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def grams_column(meta: Metadata, extra_text: str) -> str:
    """The ``search_grams`` value of a row: CJK/emoji grams of every searchable text, and the
    characters that end each one (``end_tokens``)."""
    texts = (meta.prompt, meta.negative_prompt, meta.conversation_title, meta.model, extra_text)
    grams = search_grams("\n".join(t for t in texts if t))
    ends = "\n".join(dict.fromkeys(end_tokens(texts)))
    return f"{grams}\n{ends}".strip()


def _backfill_v2(conn: sqlite3.Connection) -> None:
    """Fill version 2's columns for rows written by version 1, from their stored record."""
    rows = conn.execute("SELECT id, path, record_json, captured_at FROM images").fetchall()
    for row_id, path, record_json, captured_at in rows:
        meta = _record_of(record_json)
        extra_text = search_extra(meta, path)
        conn.execute(
            "UPDATE images SET steps = ?, sampler = ?, cfg_scale = ?, turn_index = ?,"
            " captured_ts = ?, search_extra = ?, search_grams = ? WHERE id = ?",
            (
                meta.steps,
                meta.sampler,
                meta.cfg_scale,
                meta.turn_index,
                captured_timestamp(captured_at),
                extra_text,
                grams_column(meta, extra_text),
                row_id,
            ),
        )


_METADATA_FIELDS = tuple(f.name for f in dataclasses.fields(Metadata))


def _record_dict(meta: Metadata) -> dict[str, Any]:
    """``meta.to_dict()`` without ``dataclasses.asdict``'s deep copy (a third of an import's time
    per file); ``json.dumps`` walks ``extra`` anyway."""
    values = ((name, getattr(meta, name)) for name in _METADATA_FIELDS)
    return {k: v for k, v in values if v is not None and v != {}}


def _create_text_index(conn: sqlite3.Connection) -> None:
    """Substrings of three or more characters, any script, case-folded: the trigram tokenizer
    (sqlite >= 3.34), on which a phrase query is a substring search. Older sqlite builds get
    word tokens, and search falls back to scanning (``Catalog.substring_index``)."""
    columns = ", ".join(_FTS_COLUMNS)
    for tokenizer in ("trigram", "unicode61"):
        try:
            conn.execute(
                f"CREATE VIRTUAL TABLE images_fts USING fts5({columns}, content='images',"
                f" content_rowid='id', tokenize='{tokenizer}')"
            )
        except sqlite3.OperationalError as err:
            if "tokenizer" not in str(err):
                raise
            log.warning("sqlite %s has no trigram tokenizer; search scans", sqlite3.sqlite_version)
            continue
        return


def _record_of(record_json: str | None) -> Metadata:
    """The ``Metadata`` stored by ``add`` (``Metadata.to_dict()`` as JSON). Built field by field
    rather than validated again: validation limits (e.g. a seed above 2**64) are for requests,
    and what was recorded must come back whole."""
    if not record_json:
        return Metadata()
    try:
        data = json.loads(record_json)
    except ValueError:
        return Metadata()
    if not isinstance(data, dict):
        return Metadata()
    known = {f.name for f in dataclasses.fields(Metadata)}
    values = {k: v for k, v in data.items() if k in known}
    if not isinstance(values.get("extra", {}), dict):
        values.pop("extra")
    return Metadata(**values)


#: MIGRATIONS[i] takes the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: tuple[tuple[str | Callable[[sqlite3.Connection], None], ...], ...] = (
    (
        """CREATE TABLE images (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            width INTEGER,
            height INTEGER,
            prompt TEXT,
            negative_prompt TEXT,
            seed,
            model TEXT,
            conversation_title TEXT,
            conversation_id TEXT,
            page_url TEXT,
            image_url TEXT,
            origin TEXT,
            captured_at TEXT,
            source TEXT,
            saved_at TEXT NOT NULL,
            record_json TEXT
        )""",
        # `seed` has no declared type on purpose: seeds above 2**63 are stored as text instead
        # of being rounded to a float by INTEGER affinity.
        "CREATE INDEX idx_images_sha256 ON images (sha256, format)",
        "CREATE INDEX idx_images_conversation ON images (conversation_id)",
        "CREATE INDEX idx_images_captured_at ON images (captured_at)",
        "CREATE INDEX idx_images_saved_at ON images (saved_at)",
        "CREATE INDEX idx_images_model ON images (model)",
    ),
    (
        # Search (version 2): more fields, a sortable capture time, the file's mtime (so reindex
        # can skip unchanged files), and two full-text indexes kept in step by triggers.
        "ALTER TABLE images ADD COLUMN steps INTEGER",
        "ALTER TABLE images ADD COLUMN sampler TEXT",
        "ALTER TABLE images ADD COLUMN cfg_scale REAL",
        "ALTER TABLE images ADD COLUMN turn_index INTEGER",
        "ALTER TABLE images ADD COLUMN captured_ts INTEGER",
        "ALTER TABLE images ADD COLUMN mtime_ns INTEGER",
        "ALTER TABLE images ADD COLUMN search_extra TEXT",
        "ALTER TABLE images ADD COLUMN search_grams TEXT",
        "CREATE INDEX idx_images_captured_ts ON images (captured_ts)",
        _backfill_v2,
        _create_text_index,
        # Two-character CJK/emoji queries (trigram cannot answer them): every pair of adjacent
        # non-Latin characters as one token. The ascii tokenizer keeps any non-ASCII character
        # inside a token, so emoji pairs survive (unicode61 would split on them).
        """CREATE VIRTUAL TABLE images_grams USING fts5(
            search_grams, content='images', content_rowid='id', tokenize='ascii'
        )""",
        *_fts_triggers(),
        "INSERT INTO images_fts (images_fts) VALUES ('rebuild')",
        "INSERT INTO images_grams (images_grams) VALUES ('rebuild')",
    ),
    (
        # --conversation takes an id, a title or a page URL: with all three indexed, sqlite
        # answers the OR from indexes (0.1 ms at 100,000 rows instead of a scan).
        "CREATE INDEX idx_images_conversation_title ON images (conversation_title)",
        "CREATE INDEX idx_images_page_url ON images (page_url)",
    ),
    (
        # Conversation archives (version 4): "Export conversation" records each archive it
        # writes, so `dsexport list` shows a conversation's archives beside its images.
        """CREATE TABLE exports (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            container TEXT NOT NULL,
            conversation_id TEXT,
            conversation_title TEXT,
            page_url TEXT,
            turns INTEGER NOT NULL,
            images INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            exported_at TEXT NOT NULL
        )""",
        "CREATE INDEX idx_exports_conversation ON exports (conversation_id)",
    ),
    (
        # Identities beside content hashes (version 5; catalog/identity.py: one Mermaid chart
        # rendered again is other bytes, the same picture). A row of its own, gone with its image.
        """CREATE TABLE IF NOT EXISTS identities (
            image_id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS idx_identities_identity ON identities (identity)",
        """CREATE TRIGGER IF NOT EXISTS images_identity_delete AFTER DELETE ON images BEGIN
            DELETE FROM identities WHERE image_id = old.id;
        END""",
    ),
    (
        # Deduplication by what the file's bytes are, not by a hash a file carries inside it
        # (which any file can claim). Rows from before stay NULL until reindex reads them.
        "ALTER TABLE images ADD COLUMN content_sha256 TEXT",
        "CREATE INDEX idx_images_content ON images (content_sha256, format)",
    ),
    (
        # PNG's content digest now starts with the signature, so a PNG without metadata has
        # the file's own SHA-256 as its digest and a save hashes it once (formats/png.py).
        # Digests of the old definition would never match again: forget them. A save still
        # finds such rows by the source's hash and checks the file's digest computed now
        # (Catalog._older_duplicate); `dsexport reindex` fills them in.
        "UPDATE images SET content_sha256 = NULL WHERE format = 'png'",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "path",
    "sha256",
    "format",
    "bytes",
    "width",
    "height",
    "prompt",
    "negative_prompt",
    "seed",
    "model",
    "conversation_title",
    "conversation_id",
    "page_url",
    "image_url",
    "origin",
    "captured_at",
    "source",
    "saved_at",
    "record_json",
    "steps",
    "sampler",
    "cfg_scale",
    "turn_index",
    "captured_ts",
    "mtime_ns",
    "search_extra",
    "search_grams",
    "content_sha256",
)


_UPSERT = (
    f"INSERT INTO images ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    f"ON CONFLICT(path) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "path")
)
"""``Catalog.add``'s statement, written once: a save records one row per image."""


@dataclass(frozen=True)
class Entry:
    """One catalog row, e.g. ``Entry(id=3, path="/…/cat.png", sha256="…", format="png", …)``."""

    id: int
    path: str
    sha256: str
    format: str
    bytes: int
    width: int | None
    height: int | None
    prompt: str | None
    negative_prompt: str | None
    seed: int | str | None
    model: str | None
    conversation_title: str | None
    conversation_id: str | None
    page_url: str | None
    image_url: str | None
    origin: str | None
    captured_at: str | None
    source: str | None
    saved_at: str
    record_json: str | None
    steps: int | None = None
    sampler: str | None = None
    cfg_scale: float | None = None
    turn_index: int | None = None
    captured_ts: int | None = None
    """``captured_at`` as Unix seconds, for ``--since``/``--until``."""
    mtime_ns: int | None = None
    """The file's modification time when it was recorded; ``reindex`` skips unchanged files."""
    search_extra: str | None = None
    search_grams: str | None = None
    content_sha256: str | None = None
    """The format's ``content_digest`` of the file as written or read: the dedupe key."""

    @property
    def metadata(self) -> Metadata:
        """The full record as saved (``Metadata``), e.g. for a bundle's ``metadata.json``."""
        return _record_of(self.record_json)


def default_path() -> Path:
    from dsexport import paths

    return paths.data_dir() / CATALOG_FILENAME


def open_catalog(path: str | os.PathLike | None = None, *, threads: bool = False) -> Catalog:
    """Open the catalog, creating or migrating it; ``path`` defaults to the data folder.

    ``threads``: the connection may be used from several threads (one at a time; the caller
    serialises, as ``catalog.batch.SaveBatch`` does)."""
    target = Path(os.fspath(path)) if path is not None else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return Catalog(_connect(target, threads=threads), target)
    except sqlite3.DatabaseError as err:
        if not _is_corrupt(err):
            raise
        aside = _move_aside(target)
        log.warning("catalog %s was unreadable (%s); moved to %s", target, err, aside)
        return Catalog(_connect(target, threads=threads), target)


class Catalog:
    """An open catalog; use as a context manager or call ``close()``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._in_lock = False
        self._trigram: bool | None = None

    # -- lifecycle

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def save_lock(self) -> Iterator[Catalog]:
        """Hold the catalog's write lock (``BEGIN IMMEDIATE``) across processes; commit on success,
        roll back on an exception. Other processes wait up to ``BUSY_TIMEOUT_MS``."""
        if self._in_lock:
            msg = "save_lock is not re-entrant"
            raise RuntimeError(msg)
        self._conn.execute("BEGIN IMMEDIATE")
        self._in_lock = True
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._in_lock = False

    # -- a write transaction held across calls (the batching API behind catalog.batch)

    def begin_write(self) -> None:
        """Take the write lock (``BEGIN IMMEDIATE``, waiting up to ``BUSY_TIMEOUT_MS`` for other
        processes) and keep it until ``commit()`` or ``rollback()``; ``add`` and the other
        changes made meanwhile join this transaction, as inside ``save_lock``."""
        if self._in_lock:
            msg = "a write transaction is already open"
            raise RuntimeError(msg)
        self._conn.execute("BEGIN IMMEDIATE")
        self._in_lock = True

    def commit(self) -> None:
        """End the transaction ``begin_write`` opened, keeping its changes."""
        try:
            self._conn.execute("COMMIT")
        finally:
            self._in_lock = self._conn.in_transaction

    def rollback(self) -> None:
        """End the transaction ``begin_write`` opened, dropping its changes."""
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        finally:
            self._in_lock = False

    @property
    def connection(self) -> sqlite3.Connection:
        """The sqlite connection, for the catalog package's query modules."""
        return self._conn

    @property
    def substring_index(self) -> bool:
        """True when the full-text index answers substring queries (trigram tokenizer)."""
        if self._trigram is None:
            row = self._conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'images_fts'"
            ).fetchone()
            self._trigram = bool(row) and "trigram" in str(row[0]).lower()
        return self._trigram

    def batch(self) -> contextlib.AbstractContextManager[Catalog]:
        """Many changes in one transaction (an import or reindex writes in batches, so a saving
        browser never waits long); the same lock as ``save_lock``."""
        return self.save_lock()

    # -- queries

    def select(
        self,
        where: str = "",
        params: Sequence[Any] = (),
        *,
        order: str = "id DESC",
        limit: int | None = None,
    ) -> list[Entry]:
        """Rows matching a SQL condition on ``images``, e.g. ``select("format = ?", ["png"])``."""
        sql = f"SELECT id, {', '.join(_COLUMNS)} FROM images"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order}"
        args = list(params)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [Entry(*row) for row in self._conn.execute(sql, args)]

    def iter_entries(self, batch: int = 1000) -> Iterator[Entry]:
        """Every row in id order, fetched in pages so a large catalog costs little memory."""
        last = 0
        while True:
            rows = self.select("id > ?", [last], order="id", limit=batch)
            if not rows:
                return
            yield from rows
            last = rows[-1].id

    def by_id(self, entry_id: int) -> Entry | None:
        rows = self.select("id = ?", [int(entry_id)])
        return rows[0] if rows else None

    def find_duplicate(
        self,
        content_sha256: str | None,
        fmt: str,
        output_root: str | os.PathLike,
        *,
        identity: str | None = None,
        sha256: str | None = None,
    ) -> str | None:
        """The path of an earlier save of the same picture (``content_sha256``, computed from
        bytes), or of the same ``identity`` (catalog/identity.py), in the same format under
        ``output_root`` that is still the regular file that was recorded (same size and
        modification time), else ``None``.

        Rows saved before the catalog knew content digests have none; ``sha256`` (of the bytes
        being saved) finds those saved from the same source, and each is taken only once the
        file's own content digest, computed from its bytes now, is ``content_sha256``."""
        from dsexport.storage import is_within

        rows = []
        if identity:
            rows += self._conn.execute(
                "SELECT i.path, i.bytes, i.mtime_ns FROM identities d"
                " JOIN images i ON i.id = d.image_id"
                " WHERE d.identity = ? AND i.format = ? ORDER BY i.id DESC",
                (identity, fmt),
            ).fetchall()
        if content_sha256:
            rows += self._conn.execute(
                "SELECT path, bytes, mtime_ns FROM images WHERE content_sha256 = ? AND format = ?"
                " ORDER BY id DESC",
                (content_sha256, fmt),
            ).fetchall()
        for path, size, mtime_ns in rows:
            if not is_within(path, [output_root]):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_size != size:
                continue
            if mtime_ns is not None and st.st_mtime_ns != mtime_ns:
                continue  # changed since it was recorded: no longer known to be that picture
            return path
        if content_sha256 and sha256:
            return self._older_duplicate(content_sha256, sha256, fmt, output_root)
        return None

    def _older_duplicate(
        self, content_sha256: str, sha256: str, fmt: str, output_root: str | os.PathLike
    ) -> str | None:
        rows = self._conn.execute(
            "SELECT path, bytes FROM images WHERE sha256 = ? AND format = ?"
            " AND content_sha256 IS NULL ORDER BY id DESC",
            (sha256, fmt),
        ).fetchall()
        if not rows:
            return None  # the usual answer: a save connection need not import the readers
        from dsexport.catalog.files import digests
        from dsexport.errors import DsError
        from dsexport.storage import is_within

        for path, size in rows:
            if not is_within(path, [output_root]):
                continue
            try:
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode) or st.st_size != size:
                    continue
                _, content, found = digests(path)
            except (OSError, DsError):
                continue
            if found == fmt and content == content_sha256:
                return path
        return None

    def get(self, path: str | os.PathLike) -> Entry | None:
        row = self._conn.execute(
            f"SELECT id, {', '.join(_COLUMNS)} FROM images WHERE path = ?",
            (_norm(path),),
        ).fetchone()
        return Entry(*row) if row else None

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM images").fetchone()[0])

    # -- changes

    def add(
        self,
        *,
        path: str | os.PathLike,
        sha256: str | None,
        format: str,
        size: int,
        metadata: Metadata | None = None,
        width: int | None = None,
        height: int | None = None,
        source: str | None = None,
        saved_at: str | None = None,
        mtime_ns: int | None = None,
        content_sha256: str | None = None,
        identity: str | None = None,
    ) -> int:
        """Record a saved (or embedded) file; a row for the same path is replaced. Returns its id.

        ``size`` is the file's size on disk as written (``find_duplicate`` compares it);
        ``mtime_ns`` its modification time (looked up when not given); ``sha256`` a hash of
        real bytes (the input as received, or the file); ``content_sha256`` the format's
        ``content_digest`` of the file (rows without it are never found as duplicates);
        ``identity`` what makes it the same picture beyond its bytes (only a save passes one;
        without it none is kept).
        """
        if mtime_ns is None:
            with contextlib.suppress(OSError):
                mtime_ns = os.stat(path).st_mtime_ns
        meta = metadata or Metadata()
        seed: int | str | None = meta.seed
        if isinstance(seed, int) and not -_INT64_MAX - 1 <= seed <= _INT64_MAX:
            seed = str(seed)
        values = {
            "path": _norm(path),
            "sha256": sha256 or "",
            "format": format,
            "bytes": int(size),
            "width": width if width is not None else meta.width,
            "height": height if height is not None else meta.height,
            "prompt": meta.prompt,
            "negative_prompt": meta.negative_prompt,
            "seed": seed,
            "model": meta.model,
            "conversation_title": meta.conversation_title,
            "conversation_id": meta.conversation_id,
            "page_url": meta.page_url,
            "image_url": meta.image_url,
            "origin": meta.origin,
            "captured_at": meta.captured_at,
            "source": source,
            "saved_at": saved_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "record_json": json.dumps(_record_dict(meta), ensure_ascii=False, default=str),
            "steps": meta.steps,
            "sampler": meta.sampler,
            "cfg_scale": meta.cfg_scale,
            "turn_index": meta.turn_index,
            "captured_ts": captured_timestamp(meta.captured_at),
            "mtime_ns": mtime_ns,
            "content_sha256": content_sha256,
        }
        extra_text = search_extra(meta, values["path"])
        values["search_extra"] = extra_text
        values["search_grams"] = grams_column(meta, extra_text)
        with self._write():
            # No RETURNING: it needs sqlite 3.35, newer than some supported systems ship.
            self._conn.execute(_UPSERT, [values[c] for c in _COLUMNS])
            row = self._conn.execute(
                "SELECT id FROM images WHERE path = ?", (values["path"],)
            ).fetchone()
            image_id = int(row[0])
            self._conn.execute("DELETE FROM identities WHERE image_id = ?", (image_id,))
            if identity:
                self._conn.execute(
                    "INSERT INTO identities (image_id, identity) VALUES (?, ?)",
                    (image_id, identity),
                )
            return image_id

    def move(self, entry_id: int, new_path: str | os.PathLike, *, mtime_ns: int | None) -> None:
        """Record that a file now lives at ``new_path`` (``check`` found it moved)."""
        target = _norm(new_path)
        with self._write():
            self._conn.execute("DELETE FROM images WHERE path = ? AND id != ?", (target, entry_id))
            self._conn.execute(
                "UPDATE images SET path = ?, mtime_ns = ? WHERE id = ?",
                (target, mtime_ns, int(entry_id)),
            )

    def remove(self, path: str | os.PathLike) -> bool:
        """Forget ``path``; True if it was recorded."""
        with self._write():
            cur = self._conn.execute("DELETE FROM images WHERE path = ?", (_norm(path),))
            return cur.rowcount > 0

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        # Inside save_lock the caller's transaction covers us; otherwise one of our own.
        if self._in_lock:
            yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


# --- connection and migrations ----------------------------------------------------------------


def _connect(path: Path, *, threads: bool = False) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so save_lock means what it says.
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=not threads,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a network file system; rollback journal works too
            log.info("catalog %s uses journal mode %s", path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _schema_version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return 0
        raise
    return int(row[0] or 0)


def _migrate(conn: sqlite3.Connection) -> None:
    if _schema_version(conn) == SCHEMA_VERSION:  # the common case costs one read, no lock
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = _schema_version(conn)  # another process may have migrated meanwhile
        if current > SCHEMA_VERSION:
            log.warning(
                "catalog schema %d is newer than this DS Export (%d)", current, SCHEMA_VERSION
            )
        for version in range(current, SCHEMA_VERSION):
            for step in MIGRATIONS[version]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
        if current < SCHEMA_VERSION:
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _is_corrupt(err: sqlite3.DatabaseError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    text = str(err).lower()
    return "not a database" in text or "malformed" in text


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    return aside


def _norm(path: str | os.PathLike) -> str:
    return os.path.abspath(os.fspath(path))


#: Internal columns left out of ``--json`` output.
_PRIVATE_FIELDS = ("record_json", "search_extra", "search_grams", "mtime_ns", "captured_ts")


def row_to_dict(entry: Entry) -> dict[str, Any]:
    """A JSON-friendly dict of one row (for ``--json`` output)."""
    from dataclasses import asdict

    data = asdict(entry)
    for name in _PRIVATE_FIELDS:
        data.pop(name, None)
    return data
