"""Read a catalogued image in pieces (``read_chunk``), for the library's full-size view and its
SVG tiles: the browsers drop a reply over 1 MiB, and the host keeps replies under 128 KiB, so a
large image takes several calls. The page names the image by catalog id; the file is checked on
disk before every piece (``catalog.reading``), and its first bytes must still be the catalogued
format."""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

from dsexport.errors import IoError, NotFound
from dsexport.native.handlers.library_state import int_field, state_of
from dsexport.native.session import Request, Session

READ_CHUNK_BYTES = 90 * 1024
"""Raw bytes per piece at most: 122,880 characters of base64, under the 128 KiB reply cap with
room for the rest of the reply."""

MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "svg": "image/svg+xml",
}


def read_chunk(req: Request, session: Session) -> dict[str, Any]:
    """``length`` bytes from ``offset`` of catalog entry ``entry_id`` → ``{"entry_id", "offset",
    "data", "size", "mtime_ns", "eof", "format", "mime"}``."""
    from dsexport.catalog.reading import read_range

    entry_id = int_field(req, "entry_id", low=1, high=2**63 - 1)
    offset = int_field(req, "offset", low=0, high=2**40, default=0)
    length = int_field(req, "length", low=1, high=READ_CHUNK_BYTES, default=READ_CHUNK_BYTES)
    try:
        entry = state_of(session).catalog.by_id(entry_id)
    except sqlite3.Error as err:
        msg = f"the catalog cannot be read ({err})"
        raise IoError(msg) from err
    if entry is None:
        msg = f"catalog entry {entry_id} does not exist (any more)"
        raise NotFound(msg)
    data, st = read_range(entry.path, offset, length, expect_format=entry.format)
    return {
        "entry_id": entry_id,
        "offset": offset,
        "data": base64.b64encode(data).decode("ascii"),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "eof": offset + len(data) >= st.st_size,
        "format": entry.format,
        "mime": MIME.get(entry.format, "application/octet-stream"),
    }
