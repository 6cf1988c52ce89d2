"""ZIP bundles: hand a whole conversation (or a search) to someone, every prompt attached.

The archive holds the images exactly as saved (``images/…``, stored, not recompressed),
``metadata.json`` (one object per image: file name in the archive, original path, hash, format,
size, and the full record) and ``prompts.html`` (a readable page with a thumbnail of each image,
linking to the file beside it in the archive).

It is written as a stream: ``zipfile`` writes into a small buffer that is drained into
``storage.write_new`` chunk by chunk, so memory stays flat whatever the total size (data
descriptors instead of seeking back; ZIP64 where sizes or offsets need it). The archive appears
whole or not at all, and never replaces an existing file: ``out.zip`` taken means ``out (2).zip``.
Example::

    with open_catalog() as cat:
        result = write_bundle(list_entries(cat, conversation="abc"), Path("~/cats.zip"))
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import stat
import time
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsexport.catalog.db import Entry
from dsexport.catalog.reading import open_checked
from dsexport.errors import BadRequest, DsError, ForbiddenPath, IoError, NotFound

CHUNK = 1 << 20
"""Bytes copied per step; also about the most the bundle buffers at once."""

Progress = Callable[[int, int, int], None]
"""``progress(files_done, files_total, bytes_written)``, called after each image."""

MAX_ENTRIES = 100_000
"""More files than anyone hands over in one archive; a limit on what one request can make us do."""


@dataclass(frozen=True)
class BundleResult:
    path: str
    count: int
    """Images in the archive."""
    bytes: int
    """Size of the archive."""
    skipped: tuple[str, ...] = field(default=())
    """Catalogued files that no longer exist or are not regular files (run ``dsexport check``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "count": self.count,
            "bytes": self.bytes,
            "skipped": list(self.skipped),
        }


class _Sink:
    """A write-only, non-seekable file object whose content is drained as it is written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._size += len(data)
        return len(data)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        parts, self._parts = self._parts, []
        yield from parts


def _archive_names(entries: Sequence[Entry]) -> list[str]:
    """``images/<file name>``, numbered when two files share a name. Only the base name of the
    path is used, so nothing in the archive can point outside it."""
    from dsexport.storage import collision_name

    used: set[str] = set()
    names = []
    for entry in entries:
        base = os.path.basename(entry.path).replace("\\", "_") or f"image-{entry.id}"
        n = 1
        while (candidate := collision_name(base, n)).lower() in used:
            n += 1
        used.add(candidate.lower())
        names.append(f"images/{candidate}")
    return names


def _date_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    # ZIP dates run from 1980 to 2107.
    t = time.localtime(min(max(mtime, 315532800), 4354819199))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _is_regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def write_image_member(
    zf: zipfile.ZipFile, sink: _Sink, path: str, name: str, force_zip64: bool = False
) -> Generator[bytes, None, bool]:
    """Store the catalogued file at ``path`` in ``zf`` as ``name`` (uncompressed: images are
    compressed already), yielding the archive's bytes as they come. Returns False, storing
    nothing, when the file is no longer a regular file that can be read: it is checked again as
    it is opened, so a link or a FIFO swapped in since the listing is skipped, never followed or
    waited on."""
    with contextlib.ExitStack() as opened:
        try:
            fh, st = opened.enter_context(open_checked(path))
        except (OSError, DsError):
            return False
        info = zipfile.ZipInfo(name, _date_time(st.st_mtime))
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = st.st_size
        info.external_attr = 0o644 << 16
        big = force_zip64 or st.st_size * 1.05 > zipfile.ZIP64_LIMIT
        with zf.open(info, "w", force_zip64=big) as out:
            while chunk := fh.read(CHUNK):
                out.write(chunk)
                yield from sink.drain()
    return True


def _stream(
    entries: Sequence[Entry],
    names: Sequence[str],
    skipped: list[str],
    force_zip64: bool,
    progress: Progress | None = None,
) -> Iterator[bytes]:
    sink = _Sink()
    records: list[tuple[Entry, str]] = []
    with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:
        for done, (entry, name) in enumerate(zip(entries, names, strict=True), 1):
            if progress is not None:
                progress(done - 1, len(entries), sink.tell())
            if not (yield from write_image_member(zf, sink, entry.path, name, force_zip64)):
                skipped.append(entry.path)
                continue
            records.append((entry, name))
            yield from sink.drain()
        yield from _write_text(zf, sink, "metadata.json", _metadata_json(records), force_zip64)
        yield from _write_text(zf, sink, "prompts.html", _prompts_html(records), force_zip64)
    yield from sink.drain()


def _write_text(zf, sink: _Sink, name: str, pieces: Iterator[str], force_zip64: bool):
    info = zipfile.ZipInfo(name, _date_time(time.time()))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with zf.open(info, "w", force_zip64=force_zip64) as out:
        for piece in pieces:
            out.write(piece.encode("utf-8"))
            yield from sink.drain()


def _item(entry: Entry, name: str) -> dict[str, Any]:
    return {
        "file": name,
        "path": entry.path,
        "sha256": entry.sha256,
        "format": entry.format,
        "bytes": entry.bytes,
        "width": entry.width,
        "height": entry.height,
        "metadata": entry.metadata.to_dict(),
    }


def _metadata_json(records: Sequence[tuple[Entry, str]]) -> Iterator[str]:
    yield '{"schema": "dsexport.bundle/1", "images": ['
    for i, (entry, name) in enumerate(records):
        yield ("," if i else "") + "\n  " + json.dumps(_item(entry, name), ensure_ascii=False)
    yield "\n]}\n"


_PAGE_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; \
style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
  color: #1d1d1f; }}
figure {{ display: flex; gap: 1rem; margin: 0 0 1.5rem; padding-bottom: 1.5rem;
  border-bottom: 1px solid #ddd; }}
figure img {{ width: 12rem; height: auto; max-height: 16rem; object-fit: contain;
  background: #f3f3f3; flex: none; }}
figcaption p {{ margin: 0 0 .4rem; white-space: pre-wrap; overflow-wrap: anywhere; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0 .8rem; margin: 0;
  color: #555; font-size: 13px; }}
dd {{ margin: 0; overflow-wrap: anywhere; }}
</style></head><body>
<h1>{title}</h1>
<p>{count} images. Open <code>metadata.json</code> for every field.</p>
"""


def _prompts_html(records: Sequence[tuple[Entry, str]]) -> Iterator[str]:
    titles = {e.conversation_title for e, _ in records if e.conversation_title}
    title = titles.pop() if len(titles) == 1 else "DS Export bundle"
    yield _PAGE_HEAD.format(title=html.escape(title), count=len(records))
    for entry, name in records:
        meta = entry.metadata
        href = html.escape(_url_path(name), quote=True)
        alt = html.escape((meta.prompt or os.path.basename(name))[:200], quote=True)
        rows = [
            ("Negative prompt", meta.negative_prompt),
            ("Seed", meta.seed),
            ("Model", meta.model),
            ("Steps", meta.steps),
            ("Sampler", meta.sampler),
            ("CFG scale", meta.cfg_scale),
            ("Size", f"{entry.width}×{entry.height}" if entry.width and entry.height else None),
            ("Conversation", meta.conversation_title),
            ("Page", meta.page_url),
            ("Captured", meta.captured_at),
            ("File", os.path.basename(name)),
        ]
        details = "".join(
            f"<dt>{html.escape(label)}</dt><dd>{html.escape(str(value))}</dd>"
            for label, value in rows
            if value not in (None, "")
        )
        prompt = html.escape(meta.prompt) if meta.prompt else "<i>(no prompt)</i>"
        yield (
            f'<figure><a href="{href}"><img src="{href}" alt="{alt}" loading="lazy"></a>'
            f"<figcaption><p>{prompt}</p><dl>{details}</dl></figcaption></figure>\n"
        )
    yield "</body></html>\n"


def _url_path(name: str) -> str:
    """A relative URL for an archive member: each segment percent-encoded (``#``, ``?``, spaces
    and non-ASCII in file names must not change what the link points to)."""
    from urllib.parse import quote

    return "/".join(quote(part, safe="") for part in name.split("/"))


def write_bundle(
    entries: Sequence[Entry],
    output: str | os.PathLike,
    *,
    force_zip64: bool = False,
    progress: Progress | None = None,
) -> BundleResult:
    """Write ``entries`` as a ZIP at ``output`` (a numbered name if it exists); return where.

    ``force_zip64`` writes ZIP64 records even for small files (tests; tools that want them);
    ``progress`` is told how far the archive has got before each image.
    Raises ``NotFound`` when there is nothing to bundle and ``IoError`` when writing fails.
    """
    from dsexport import storage

    if not entries:
        msg = "nothing to bundle: no catalogued images match"
        raise NotFound(msg)
    if len(entries) > MAX_ENTRIES:
        msg = f"a bundle holds at most {MAX_ENTRIES} images; narrow the search"
        raise BadRequest(msg)
    target = Path(os.path.abspath(os.path.expanduser(os.fspath(output))))
    if target.suffix.lower() != ".zip":
        target = target.with_name(target.name + ".zip")
    if target.name.startswith(storage.TEMP_PREFIX):
        msg = f"{target.name} uses DS Export's temporary-file prefix; choose another name"
        raise ForbiddenPath(msg)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot create the folder {target.parent}: {err.strerror}"
        raise IoError(msg) from err
    skipped = [e.path for e in entries if not _is_regular_file(e.path)]
    gone = set(skipped)
    entries = [e for e in entries if e.path not in gone]
    gone_before = len(skipped)
    if not entries:
        msg = "none of the catalogued files exist any more; run 'dsexport check'"
        raise NotFound(msg)
    names = _archive_names(entries)
    final = storage.write_new(
        target.parent, target.name, _stream(entries, names, skipped, force_zip64, progress)
    )
    count = len(entries) - (len(skipped) - gone_before)
    return BundleResult(
        path=str(final), count=count, bytes=final.stat().st_size, skipped=tuple(skipped)
    )


MAX_SELECTION = 10_000
"""Files one ``bundle`` request may name (the popup sends what it just saved)."""


def select_entries(
    catalog,
    *,
    ids: Sequence[int] = (),
    sha256s: Sequence[str] = (),
    paths: Sequence[str] = (),
    conversation_id: str | None = None,
) -> list[Entry]:
    """Catalog rows named by id, hash or path (oldest first); with none of those, every row of
    ``conversation_id``. Only catalogued files can be bundled: a request naming any other file
    gets nothing for it, so a bundle cannot be used to read arbitrary files."""
    if len(ids) + len(sha256s) + len(paths) > MAX_SELECTION:
        msg = f"a bundle request may name at most {MAX_SELECTION} files"
        raise BadRequest(msg)
    found: dict[int, Entry] = {}
    for entry_id in ids:
        entry = catalog.by_id(entry_id)
        if entry is not None:
            found[entry.id] = entry
    for sha in sha256s:
        for entry in catalog.select("sha256 = ?", [sha], order="id"):
            found[entry.id] = entry
    for path in paths:
        entry = catalog.get(path)
        if entry is not None:
            found[entry.id] = entry
    if ids or sha256s or paths:
        return [found[k] for k in sorted(found)]
    if not conversation_id:
        msg = "name the files (ids, sha256s or paths) or a conversation_id to bundle"
        raise BadRequest(msg)
    return catalog.select(
        "conversation_id = ?", [conversation_id], order="coalesce(captured_ts, 0), id"
    )


def default_name(entries: Sequence[Entry], now=None) -> str:
    """``猫咪对话 20261125-091403.zip``: the conversation's title (when all share one) and the time,
    made safe as a file name on every OS."""
    from datetime import datetime

    from dsexport import naming
    from dsexport.model import Metadata

    titles = {e.conversation_title for e in entries if e.conversation_title}
    title = titles.pop() if len(titles) == 1 else "DS Export bundle"
    moment = now or datetime.now().astimezone()
    meta = Metadata(conversation_title=title)
    return naming.render("{conversation} {datetime}", meta, sha256="0" * 64, ext="zip", now=moment)


def bundle_to_output_folder(
    entries: Sequence[Entry],
    name: str | None = None,
    *,
    config=None,
    progress: Progress | None = None,
) -> BundleResult:
    """Write a bundle into the configured output folder as ``name`` or ``default_name``. For
    callers that must not choose paths (the native host): ``name`` is made one safe file name the
    way saved images' names are (``"../a/b: c"`` → ``_a_b_ c.zip``), so it can never leave the
    output folder."""
    from datetime import datetime

    from dsexport import naming
    from dsexport.model import Metadata

    if config is None:
        from dsexport.config import load_config

        config = load_config()
    if name is not None:
        stem = name[:-4] if name.lower().endswith(".zip") else name
        meta = Metadata(conversation_title=stem)
        name = naming.render(
            "{conversation}", meta, sha256="0" * 64, ext="zip", now=datetime.now().astimezone()
        )
    folder = Path(config.output_dir).expanduser()
    return write_bundle(entries, folder / (name or default_name(entries)), progress=progress)
