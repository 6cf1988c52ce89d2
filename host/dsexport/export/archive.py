"""Write one conversation's archive into the output folder: a ZIP, or a folder.

Both hold ``conversation.html``, ``conversation.md``, ``conversation.json`` and ``images/``. The
ZIP is streamed with the bundle's pieces (``catalog/bundle.py``: ``zipfile`` writing into a small
buffer drained chunk by chunk into ``storage.write_new``), so memory stays flat whatever the
size; the folder is built by ``storage.write_new_tree``. Either appears whole or not at all and
never replaces anything: a taken name gets ``name (2).zip``. Turns are read from ``turns()``,
a fresh iterator each time (the spool file), once per text member. Example::

    result = write_export(conversation, spool.iter_turns, options, output_root=root, catalog=cat)
    result.path   # '/home/ana/Pictures/DeepSeek/2026-11-25/猫咪插画与流程图 🎨.zip'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dsexport.errors import DsError
from dsexport.export import data, page, text
from dsexport.export.layout import Layout, Member
from dsexport.export.model import Conversation, ExportOptions, Turn, archive_stem

TEXT_MEMBERS = ("conversation.html", "conversation.md", "conversation.json")


@dataclass(frozen=True)
class ExportResult:
    path: str
    container: str
    turns: int
    images: int
    """Image files in the archive."""
    bytes: int
    """Size of the ZIP, or of every file in the folder."""
    exported_at: str = ""
    """ISO 8601 time written into the archive."""
    missing: tuple[str, ...] = field(default=())
    """Image paths the turns named that are not catalogued files (left out)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "container": self.container,
            "turns": self.turns,
            "images": self.images,
            "bytes": self.bytes,
            "missing": len(self.missing),
        }


def archive_relpath(
    conversation: Conversation, first_prompt: str | None, options: ExportOptions, now: datetime
) -> str:
    """The archive's path under the output folder from the name template, with the same fields
    as image names (``{date}/{conversation}.zip`` → ``2026-11-25/猫咪插画.zip``); a folder drops
    the ``.zip``."""
    from dsexport import naming
    from dsexport.model import Metadata

    meta = Metadata(
        prompt=first_prompt,
        model=conversation.model,
        conversation_title=conversation.title,
        conversation_id=conversation.id,
        page_url=conversation.url,
    )
    identity = (conversation.id or conversation.url or conversation.title or "").encode("utf-8")
    relpath = naming.render(
        archive_stem(options.template),
        meta,
        sha256=hashlib.sha256(identity).hexdigest(),
        ext="zip",
        now=now,
    )
    return relpath[:-4] if options.container == "folder" else relpath


def _text_parts(
    conversation: Conversation,
    turns: Callable[[], Iterator[Turn]],
    layout: Layout,
    options: ExportOptions,
    *,
    exported_at: str,
    turn_count: int,
) -> dict[str, Callable[[], Iterator[str]]]:
    from dsexport import __version__

    common = {"exported_at": exported_at, "turn_count": turn_count}
    return {
        "conversation.html": lambda: page.pieces(conversation, turns, layout, options, **common),
        "conversation.md": lambda: text.pieces(conversation, turns, layout, options, **common),
        "conversation.json": lambda: data.pieces(
            conversation, turns, layout, options, tool=f"dsexport {__version__}", **common
        ),
    }


def _encoded(pieces: Iterator[str]) -> Iterator[bytes]:
    for piece in pieces:
        yield piece.encode("utf-8")


def _zip_stream(
    texts: dict[str, Callable[[], Iterator[str]]], members: list[Member], skipped: list[str]
) -> Iterator[bytes]:
    from dsexport.catalog.bundle import _date_time, _Sink, write_image_member

    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:
        for name, make in texts.items():
            info = zipfile.ZipInfo(name, _date_time(time.time()))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as out:
                for piece in _encoded(make()):
                    out.write(piece)
                    yield from sink.drain()
        for member in members:
            if not (yield from write_image_member(zf, sink, member.path, member.name)):
                skipped.append(member.path)
            yield from sink.drain()
    yield from sink.drain()


def _chunks(fh) -> Iterator[bytes]:
    from dsexport.catalog.bundle import CHUNK

    while chunk := fh.read(CHUNK):
        yield chunk


def _tree(
    texts: dict[str, Callable[[], Iterator[str]]], members: list[Member], skipped: list[str]
) -> Iterator[tuple[str, Iterator[bytes]]]:
    from dsexport.catalog.reading import open_checked

    for name, make in texts.items():
        yield name, _encoded(make())
    for member in members:
        # Opened before its name is handed out: an image that is gone, or a link or a FIFO
        # swapped in since the layout, is left out (no empty file under its name), never
        # followed or waited on (as in the ZIP, catalog.bundle.write_image_member). The tree
        # writer reads each file's parts before it asks for the next, so this one stays open
        # exactly while it is copied.
        with contextlib.ExitStack() as opened:
            try:
                fh, _st = opened.enter_context(open_checked(member.path))
            except (OSError, DsError):
                skipped.append(member.path)
                continue
            yield member.name, _chunks(fh)


def _tree_bytes(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            total += os.lstat(os.path.join(base, name)).st_size
    return total


def write_export(
    conversation: Conversation,
    turns: Callable[[], Iterator[Turn]],
    options: ExportOptions,
    *,
    output_root: Path,
    catalog,
    now: datetime | None = None,
) -> ExportResult:
    """Write the archive of ``conversation`` under ``output_root``; return where it went.

    Images are the catalogued files the turns name (``ImageRef.path``); anything else is left
    out and counted in ``missing``. Raises ``IoError``/``ForbiddenPath`` from ``storage``.
    """
    from dsexport import storage

    moment = now or datetime.now(timezone.utc).astimezone()
    count = 0
    first_prompt = None
    paths: list[str] = []
    for turn in turns():
        count += 1
        if first_prompt is None and turn.role == "user" and turn.text:
            first_prompt = turn.text
        paths.extend(ref.path for ref in turn.images if ref.path)
    layout = Layout.build(paths, catalog)
    exported_at = moment.isoformat(timespec="seconds")
    texts = _text_parts(
        conversation, turns, layout, options, exported_at=exported_at, turn_count=count
    )
    members = list(layout.members.values())
    relpath = archive_relpath(conversation, first_prompt, options, moment)
    skipped: list[str] = []
    if options.container == "folder":
        final = storage.write_new_tree(output_root, relpath, _tree(texts, members, skipped))
        size = _tree_bytes(final)
    else:
        final = storage.write_new(output_root, relpath, _zip_stream(texts, members, skipped))
        size = final.stat().st_size
    return ExportResult(
        path=str(final),
        container=options.container,
        turns=count,
        images=len(members) - len(skipped),
        bytes=size,
        exported_at=exported_at,
        missing=tuple(layout.refused) + tuple(skipped),
    )
