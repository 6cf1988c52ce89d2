"""Conversation archives in the catalog: each "Export conversation" is recorded with where it went,
so ``dsexport list`` shows a conversation's archives beside its images. Example::

    with open_catalog() as cat:
        record_export(cat, path="/…/猫咪.zip", container="zip", conversation_id="7c0e…",
                      conversation_title="猫咪", page_url="https://…", turns=6, images=5,
                      size=48213, exported_at="2026-11-25T09:14:03+01:00")
        [a.path for a in list_exports(cat, conversation="7c0e…")]
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from dsexport.catalog.db import Catalog

_COLUMNS = (
    "path",
    "container",
    "conversation_id",
    "conversation_title",
    "page_url",
    "turns",
    "images",
    "bytes",
    "exported_at",
)


@dataclass(frozen=True)
class ExportEntry:
    id: int
    path: str
    container: str
    """``zip`` or ``folder``."""
    conversation_id: str | None
    conversation_title: str | None
    page_url: str | None
    turns: int
    images: int
    bytes: int
    exported_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_export(
    catalog: Catalog,
    *,
    path: str,
    container: str,
    conversation_id: str | None,
    conversation_title: str | None,
    page_url: str | None,
    turns: int,
    images: int,
    size: int,
    exported_at: str,
) -> int:
    """Record an archive (a row for the same path is replaced); returns its id."""
    values = (
        os.path.abspath(path),
        container,
        conversation_id,
        conversation_title,
        page_url,
        int(turns),
        int(images),
        int(size),
        exported_at,
    )
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "path")
    conn = catalog.connection
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"INSERT INTO exports ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
            f" ON CONFLICT(path) DO UPDATE SET {updates}",
            values,
        )
        row = conn.execute("SELECT id FROM exports WHERE path = ?", (values[0],)).fetchone()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(row[0])


def list_exports(catalog: Catalog, *, conversation: str | None = None) -> list[ExportEntry]:
    """Archives, newest first; ``conversation`` matches an id, a title or a page URL."""
    sql = f"SELECT id, {', '.join(_COLUMNS)} FROM exports"
    params: list[str] = []
    if conversation is not None:
        sql += " WHERE conversation_id = ? OR conversation_title = ? OR page_url = ?"
        params = [conversation] * 3
    sql += " ORDER BY exported_at DESC, id DESC"
    return [ExportEntry(*row) for row in catalog.connection.execute(sql, params)]
