"""Thumbnails for the library grid (``thumbnails``) and the cache they live in
(``thumbnail_cache``).

``thumbnails`` answers at once: cached thumbnails come back as data, the others are queued for
the background worker and reported ``pending`` (ask again shortly); a file that is gone is
``missing``, one that cannot be decoded ``failed``. SVGs are never rendered by the helper: they
are listed under ``svg`` and the page reads their bytes (``read_chunk``) into an ``<img>``.
"""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

from dsexport.errors import BadRequest, IoError
from dsexport.native.handlers.fields import get_field
from dsexport.native.handlers.library_state import (
    REPLY_BUDGET,
    ids_field,
    int_field,
    state_of,
)
from dsexport.native.session import Request, Session

MAX_THUMBNAIL_IDS = 200


def thumbnails(req: Request, session: Session) -> dict[str, Any]:
    """``{"thumbs": [{"id", "mime", "data"}], "more", "pending", "missing", "failed", "svg",
    "unknown"}`` for the catalog ``ids`` at ``size`` px."""
    from dsexport.catalog.browse import entries_by_ids
    from dsexport.catalog.reading import check_path
    from dsexport.errors import DsError
    from dsexport.thumbnails import SIZES
    from dsexport.thumbnails.make import mime_of
    from dsexport.thumbnails.worker import Job

    ids = ids_field(req, limit=MAX_THUMBNAIL_IDS)
    size = int_field(req, "size", low=1, high=max(SIZES), default=SIZES[0])
    if size not in SIZES:
        msg = f"field 'size' must be one of {', '.join(map(str, SIZES))}"
        raise BadRequest(msg)
    state = state_of(session)
    try:
        entries = {e.id: e for e in entries_by_ids(state.catalog, ids)}
    except sqlite3.Error as err:
        msg = f"the catalog cannot be read ({err})"
        raise IoError(msg) from err
    cache, worker = state.cache, state.worker
    reply: dict[str, list] = {
        key: [] for key in ("thumbs", "more", "pending", "missing", "failed", "svg", "unknown")
    }
    budget = REPLY_BUDGET
    jobs = []
    for entry_id in ids:
        entry = entries.get(entry_id)
        if entry is None:
            reply["unknown"].append(entry_id)
            continue
        try:
            st = check_path(entry.path)
        except DsError:
            reply["missing"].append(entry_id)
            continue
        if entry.format == "svg":
            reply["svg"].append({"id": entry_id, "bytes": st.st_size})
            continue
        key = cache.key(entry.path, st, size)
        failure = worker.failure(key)
        if failure is not None:
            reply["failed"].append({"id": entry_id, "code": failure.code})
            continue
        data = cache.get(key) if budget > 0 else None
        if data is None and not cache.has(key):
            reply["pending"].append(entry_id)
            if not worker.busy(key):
                jobs.append(Job(key, entry.path, size))
            continue
        text = base64.b64encode(data).decode("ascii") if data is not None else ""
        if data is None or len(text) + 64 > budget:
            budget = 0  # keep the reply in order: the rest waits for the next request
            reply["more"].append(entry_id)
            continue
        budget -= len(text) + 64
        reply["thumbs"].append({"id": entry_id, "mime": mime_of(data), "data": text})
    if jobs:
        worker.want(jobs)
    return reply


def thumbnail_cache(req: Request, session: Session) -> dict[str, Any]:
    """The thumbnail cache's size and cap → ``{"files", "bytes", "limit_bytes", "folder"}``;
    ``clear: true`` empties it first."""
    state = state_of(session)
    cache = state.cache
    usage = cache.clear() if get_field(req, "clear", bool, required=False) else cache.usage()
    return {
        "files": usage.files,
        "bytes": usage.bytes,
        "limit_bytes": cache.limit_bytes,
        "folder": str(cache.folder),
    }
