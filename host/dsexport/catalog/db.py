"""The catalog database: one sqlite3 file, ``<data_dir>/catalog.sqlite3``.

Several processes use it at once (one native host per browser window, the CLI), so it runs in WAL
mode with a busy timeout, and ``Catalog.save_lock()`` is a ``BEGIN IMMEDIATE`` transaction: the
pipeline holds it around "is this image already saved? if not, write it and record it", which
makes that check-then-write atomic across processes. Example::

    with open_catalog() as catalog, catalog.save_lock():
        if catalog.find_duplicate(sha, "png", "/home/ana/Pictures/DeepSeek") is None:
            path = storage.write_new(...)
            catalog.add(path=str(path), sha256=sha, format="png", size=n, metadata=meta)

Schema changes are numbered migrations (``MIGRATIONS``): append one, never edit one. The
``schema_version`` table records how many have run. A catalog file that sqlite reports as not a
database or malformed is moved aside (``catalog.sqlite3.corrupt-<time>``) and a new one started;
``dsexport reindex`` can rebuild it from the files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
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

#: MIGRATIONS[i] takes the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
)


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


def default_path() -> Path:
    from dsexport import paths

    return paths.data_dir() / CATALOG_FILENAME


def open_catalog(path: str | os.PathLike | None = None) -> Catalog:
    """Open the catalog, creating or migrating it; ``path`` defaults to the data folder."""
    target = Path(os.fspath(path)) if path is not None else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return Catalog(_connect(target), target)
    except sqlite3.DatabaseError as err:
        if not _is_corrupt(err):
            raise
        aside = _move_aside(target)
        log.warning("catalog %s was unreadable (%s); moved to %s", target, err, aside)
        return Catalog(_connect(target), target)


class Catalog:
    """An open catalog; use as a context manager or call ``close()``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._in_lock = False

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

    # -- queries

    def find_duplicate(
        self, sha256: str | None, fmt: str, output_root: str | os.PathLike
    ) -> str | None:
        """The path of an earlier save of the same input bytes in the same format under
        ``output_root`` that still exists as a regular file of the recorded size, else ``None``."""
        from dsexport.storage import is_within

        if not sha256:
            return None
        rows = self._conn.execute(
            "SELECT path, bytes FROM images WHERE sha256 = ? AND format = ? ORDER BY id DESC",
            (sha256, fmt),
        ).fetchall()
        for path, size in rows:
            if not is_within(path, [output_root]):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size == size:
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
    ) -> int:
        """Record a saved (or embedded) file; a row for the same path is replaced. Returns its id.

        ``size`` is the file's size on disk as written (``find_duplicate`` compares it).
        """
        meta = metadata or Metadata()
        seed: int | str | None = meta.seed
        if isinstance(seed, int) and not -_INT64_MAX - 1 <= seed <= _INT64_MAX:
            seed = str(seed)
        values = {
            "path": _norm(path),
            "sha256": sha256 or meta.sha256 or "",
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
            "record_json": json.dumps(meta.to_dict(), ensure_ascii=False, default=str),
        }
        names = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "path")
        with self._write():
            # No RETURNING: it needs sqlite 3.35, newer than some supported systems ship.
            self._conn.execute(
                f"INSERT INTO images ({names}) VALUES ({marks}) "
                f"ON CONFLICT(path) DO UPDATE SET {updates}",
                [values[c] for c in _COLUMNS],
            )
            row = self._conn.execute(
                "SELECT id FROM images WHERE path = ?", (values["path"],)
            ).fetchone()
            return int(row[0])

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


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so save_lock means what it says.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
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
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
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


def row_to_dict(entry: Entry) -> dict[str, Any]:
    """A JSON-friendly dict of one row (for ``--json`` output)."""
    from dataclasses import asdict

    return asdict(entry)
