"""The save engine. Every save — toolbar, context menu, finished download, CLI, script — ends here.

``save_image``: read → sniff → check → (convert on request) → embed at container level → name →
write atomically without overwriting → record in the catalog. In ``original`` mode (the default)
the encoded image data is never touched: only metadata chunks/segments are inserted.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dsexport import __version__
from dsexport.errors import (
    CorruptImage,
    ForbiddenPath,
    IoError,
    NotFound,
    TooLarge,
    UnsupportedFormat,
)
from dsexport.model import Metadata, SaveOptions, SaveResult

MAX_IMAGE_BYTES = 512 * 1024 * 1024
"""Largest input accepted. Real images from a chat page are a few MB; the cap stops a hostile page
from filling the disk or memory through one request."""

MAX_PIXELS = 178_956_970
"""Largest pixel count accepted, checked from the header before anything is decoded (the same
limit at which Pillow itself refuses a decompression bomb)."""

SIDECAR_KINDS = ("json", "txt")

Source = bytes | bytearray | memoryview | str | os.PathLike


@dataclass(frozen=True)
class Hashed:
    """Image bytes (or a path) with the SHA-256 their reader computed while reading them: a
    staged download read block by block, a transfer as its chunks arrived. ``save_image`` then
    does not read the whole image once more just to hash it. Only for hashes this process
    computed itself, never for one taken from a request."""

    source: Source
    sha256: str


@dataclass(frozen=True)
class Inspection:
    """What ``dsexport inspect`` shows for one file."""

    format: str
    width: int | None
    height: int | None
    animated: bool
    has_c2pa: bool
    convention: str | None
    """Which convention the metadata was read from: ``dsexport``, ``a1111``, ``comfyui``, …"""
    metadata: Metadata | None
    fields: dict[str, Any]
    """The raw fields found (text chunks, XMP present, …), for ``--json`` output."""
    problem: str | None = None
    """Why metadata that was found is not shown: a value out of the bounds every request is
    held to (e.g. ``Steps: 99999999999999999999999``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "animated": self.animated,
            "has_c2pa": self.has_c2pa,
            "convention": self.convention,
            "metadata": self.metadata.to_dict() if self.metadata else None,
            "fields": self.fields,
            **({"problem": self.problem} if self.problem else {}),
        }


# ---------------------------------------------------------------------------------------------
# Reading input


@contextmanager
def _open_source(source: Source, *, within: Sequence[Path] | None = None):
    """Yield the input as a buffer. Files are memory-mapped so a 40 MB image is not copied onto
    the heap (the chunked-transfer path relies on this to keep memory flat).

    ``within``: open the file only from a folder that is inside one of these at the moment it is
    opened (``embed``: a folder swapped for a link after the caller's check must not make us read
    a file from elsewhere and write its bytes over the one inside)."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) > MAX_IMAGE_BYTES:
            raise TooLarge(_too_large(len(source)))
        yield memoryview(source)
        return
    path = Path(os.fspath(source))
    if within is not None:
        from dsexport import storage

        fd = storage.open_for_reading(path, within)
    else:
        try:
            # O_NONBLOCK: opening a FIFO (or a tty) for reading otherwise waits for a writer
            # forever; the fstat below then refuses anything that is not a regular file.
            fd = os.open(
                path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            )
        except FileNotFoundError as err:
            msg = f"no such file: {path}"
            raise NotFound(msg) from err
        except OSError as err:
            msg = f"cannot read {path}: {err.strerror}"
            raise IoError(msg) from err
    try:
        st = os.fstat(fd)
        import stat

        if not stat.S_ISREG(st.st_mode):
            msg = f"not a regular file: {path}"
            raise UnsupportedFormat(msg)
        if st.st_size > MAX_IMAGE_BYTES:
            raise TooLarge(_too_large(st.st_size))
        if st.st_size == 0:
            msg = f"{path} is empty"
            raise UnsupportedFormat(msg)
        mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        view = memoryview(mapped)
        try:
            yield view
        finally:
            try:
                view.release()
                mapped.close()
            except BufferError:
                # A slice is still referenced (e.g. by an exception's traceback); the map is
                # closed when that last reference goes. Raising here would hide the real error.
                pass
    finally:
        os.close(fd)


def open_image(path: str | os.PathLike):
    """A context manager giving the bytes of the image file at ``path`` (memory-mapped, never
    through a link), for readers that need them next to ``inspect``: e.g. the catalog, which
    hashes them."""
    return _open_source(Path(os.fspath(path)))


def _too_large(size: int) -> str:
    return f"image is {size} bytes; the limit is {MAX_IMAGE_BYTES} bytes"


def _coerce_metadata(metadata: Metadata | Mapping[str, Any] | None) -> Metadata:
    if isinstance(metadata, Metadata):
        return metadata
    from dsexport.validate import metadata_from_dict

    return metadata_from_dict(metadata)


def _load_config(config):
    if config is not None:
        return config
    from dsexport.config import load_config

    return load_config()


def _probe(data: memoryview):
    """→ (format name, container module, ImageInfo, layout): ``layout`` is the container's
    structure, walked and checked once for the whole save where the module takes it
    (``SPLIT_ONCE``), else ``None``."""
    from dsexport.formats import FORMATS
    from dsexport.sniff import sniff

    name = sniff(data)
    module = FORMATS[name]
    layout = module.split(data) if getattr(module, "SPLIT_ONCE", False) else None
    info = module.probe(data, **_with_layout(layout))
    if info.width and info.height and info.width * info.height > MAX_PIXELS:
        msg = (
            f"image claims to be {info.width}x{info.height} pixels, more than the "
            f"{MAX_PIXELS} allowed (decompression bomb guard)"
        )
        raise CorruptImage(msg)
    return name, module, info, layout


def _with_layout(layout) -> dict[str, Any]:
    return {} if layout is None else {"layout": layout}


def _content_digest(module, data, layout, file_sha256: str | None = None) -> str:
    """``module.content_digest(data)``, from the layout already walked when there is one and
    from ``file_sha256`` (of all of ``data``) where that is the digest (``formats``)."""
    from dsexport.formats import content_digest

    return content_digest(module, data, layout=layout, file_sha256=file_sha256)


def _now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


def _complete(meta: Metadata, *, sha256: str, info, now: datetime) -> Metadata:
    """Fill what the engine knows better than the caller: size, hash, time, tool."""
    return meta.replace(
        width=info.width if info.width else meta.width,
        height=info.height if info.height else meta.height,
        sha256=sha256,
        captured_at=meta.captured_at or now.isoformat(timespec="seconds"),
        tool=f"dsexport {__version__}",
    )


# ---------------------------------------------------------------------------------------------
# Embedding


@dataclass(frozen=True)
class _Embedded:
    parts: list
    metadata_in: str
    warnings: tuple[str, ...]


def _embed(module, data, info, meta: Metadata, fields: Sequence[str], layout=None) -> _Embedded:
    """Insert ``meta`` (limited to ``fields``) into ``data`` at container level, or explain why
    the file has to stay untouched and carry a sidecar instead."""
    from dsexport import conventions

    shown = meta.only(tuple(fields))
    if info.has_c2pa:
        return _Embedded(
            [data],
            "sidecar",
            (
                "the file carries a C2PA content credential; inserting metadata would invalidate "
                "it, so the file was kept byte for byte and the metadata went to a .json sidecar",
            ),
        )
    try:
        existing = module.extract(data, **_with_layout(layout))
        payload = conventions.build_payload(shown, existing, fmt=module.NAME)
        parts = module.embed(data, payload, **_with_layout(layout))
    except UnsupportedFormat as err:
        # Containers we cannot edit losslessly (AVIF): keep the bytes, use a sidecar.
        return _Embedded([data], "sidecar", (f"{err}; the file was kept byte for byte",))
    return _Embedded(parts, "file", ())


def _record_json(meta: Metadata) -> str:
    from dsexport.conventions import record

    return record.encode(meta)


def _a1111_text(meta: Metadata) -> str:
    from dsexport.conventions import a1111

    return a1111.encode(meta)


# ---------------------------------------------------------------------------------------------
# Public API


def save_image(
    source: Source | Hashed,
    metadata: Metadata | Mapping[str, Any] | None = None,
    options: SaveOptions | None = None,
    *,
    config=None,
) -> SaveResult:
    """Save one image with its metadata embedded; return where it went.

    ``source`` is the image bytes or a path. Example::

        save_image("cat.webp", {"prompt": "a cat", "seed": 7}, SaveOptions(format="png"))
    """
    cfg = _load_config(config)
    opts = options or SaveOptions()
    meta = _coerce_metadata(metadata)
    now = _now()
    known = source.sha256 if isinstance(source, Hashed) else None
    with _open_source(source.source if isinstance(source, Hashed) else source) as data:
        src_name, src_module, info, layout = _probe(data)
        sha = known or hashlib.sha256(data).hexdigest()
        meta = _complete(meta, sha256=sha, info=info, now=now)
        target = opts.format or cfg.format
        warnings: list[str] = []
        if target in ("original", src_name) or src_name == "svg":
            if target not in ("original", src_name):
                warnings.append("SVG diagrams are kept as SVG")
            out_name, out_module, out_data, out_info = src_name, src_module, data, info
            content = _content_digest(out_module, out_data, layout, file_sha256=sha)
        else:
            layout = None  # the layout is the source's; the output is new bytes
            from dsexport import convert
            from dsexport.formats import FORMATS

            converted = convert.convert(
                data,
                src_name,
                target,
                quality=opts.quality if opts.quality is not None else _default_quality(cfg, target),
                background=opts.background or cfg.jpeg_background,
            )
            warnings.extend(converted.warnings)
            out_name, out_module = target, FORMATS[target]
            out_data = memoryview(converted.data)
            out_info = out_module.probe(out_data)
            content = _content_digest(out_module, out_data, None)
        return _store(
            out_module,
            out_data,
            out_info,
            meta,
            opts,
            cfg,
            now=now,
            fmt=out_name,
            warnings=warnings,
            content=content,
            layout=layout,
        )


def _default_quality(cfg, target: str) -> int | None:
    # WebP defaults to lossless: a user converting a PNG expects no loss unless they ask.
    if target == "webp":
        return None
    return cfg.quality


def _ensure_output_folder(root: Path) -> None:
    """Create the output folder if it is missing, but only the folder itself: if its parent is
    gone too (an unmounted drive, a deleted folder tree) the save fails instead of quietly
    filling the system disk under the mount point. The default folder is the exception, since
    a fresh account may have no Pictures folder yet."""
    from dsexport import paths

    if root.is_dir():
        return
    parents = root == paths.default_output_dir()
    try:
        root.mkdir(parents=parents, exist_ok=True)
    except FileNotFoundError as err:
        msg = (
            f"the output folder {root} does not exist and neither does {root.parent}; "
            "if it is on a removable or network drive, connect it, or choose another folder"
        )
        raise IoError(msg) from err
    except OSError as err:
        msg = f"cannot create the output folder {root}: {err.strerror}"
        raise IoError(msg) from err


def _store(
    module,
    data,
    info,
    meta,
    opts: SaveOptions,
    cfg,
    *,
    now,
    fmt,
    warnings,
    content: str,
    layout=None,
) -> SaveResult:
    """Write ``data`` unless the same picture (``content``: the format's ``content_digest``
    of these bytes) is already saved in this format under the output folder."""
    from dsexport import naming

    root = Path(opts.output_dir or cfg.output_dir).expanduser()
    if not root.is_absolute():
        msg = f"output folder must be an absolute path, not {str(root)!r}"
        raise ForbiddenPath(msg)
    _ensure_output_folder(root)
    fields = opts.embed_fields if opts.embed_fields is not None else tuple(cfg.embed_fields)
    sidecars = set(opts.sidecars if opts.sidecars is not None else cfg.sidecars)
    template = opts.name_template or cfg.name_template
    relpath = naming.render(
        template, meta, sha256=meta.sha256 or "", ext=module.EXTENSION, now=now, index=opts.index
    )

    import sqlite3

    published: _Published | None = None
    catalog_trouble: tuple[str, ...] = ()

    def duplicate(existing: str) -> SaveResult:
        return SaveResult(
            path=existing,
            format=fmt,
            bytes_written=0,
            sha256=meta.sha256 or "",
            duplicate=True,
            width=info.width,
            height=info.height,
        )

    def row(published: _Published) -> dict[str, Any]:
        return {
            "path": str(published.path),
            "sha256": meta.sha256,
            "format": fmt,
            "size": published.written,
            "metadata": meta,
            "source": opts.source or "api",
            "content_sha256": content,
        }

    try:
        identity = _identity(meta)
        batch = _active_batch()
        _tickets.last = None
        if batch is not None:
            # Other threads save meanwhile; this picture is claimed, so a second save of it
            # waits for this one and then finds its row.
            with batch.slot(content, fmt, str(root), identity=identity, sha256=meta.sha256) as slot:
                if slot.existing:
                    return duplicate(slot.existing)
                # The new names are made durable once per folder, by the batch's commit,
                # before any reply reports them (the file's data is fsynced now).
                published = _publish(
                    module, data, info, meta, fields, sidecars, root, relpath, layout, slot.folders
                )
                slot.record(**row(published), identity=identity)
            _tickets.last = slot.ticket
        else:
            with _catalog_lock() as catalog:
                if catalog is not None:
                    existing = catalog.find_duplicate(
                        content, fmt, str(root), identity=identity, sha256=meta.sha256
                    )
                    if existing:
                        return duplicate(existing)
                published = _publish(
                    module, data, info, meta, fields, sidecars, root, relpath, layout
                )
                if catalog is not None:
                    catalog.add(**row(published), identity=identity)
    except sqlite3.Error as err:
        # The catalog only deduplicates: a full disk or a broken database must not fail a save.
        # Failing before the write, save without it; failing after, the file is saved whole and
        # stays saved (answering an error would make the user save it a second time).
        catalog_trouble = (
            f"the catalog could not record this image ({err}); the file is saved, but saving it "
            "again may give a second copy. Free some space, then run 'dsexport reindex'",
        )
        if published is None:
            published = _publish(module, data, info, meta, fields, sidecars, root, relpath, layout)
    metadata_in = published.embedded.metadata_in
    if metadata_in == "file" and published.sidecars:
        metadata_in = "both"
    return SaveResult(
        path=str(published.path),
        format=fmt,
        bytes_written=published.written,
        sha256=meta.sha256 or "",
        sidecars=tuple(published.sidecars),
        metadata_in=metadata_in,
        warnings=tuple(warnings) + published.embedded.warnings + catalog_trouble,
        width=info.width,
        height=info.height,
    )


def _identity(meta: Metadata) -> str | None:
    """A diagram's identity beside its bytes: one chart rendered again is the same picture."""
    from dsexport.catalog.identity import diagram_identity

    return diagram_identity(meta)


@dataclass(frozen=True)
class _Published:
    path: Path
    written: int
    sidecars: list[str]
    embedded: _Embedded


def _publish(
    module, data, info, meta, fields, sidecars, root: Path, relpath: str, layout=None, folders=None
) -> _Published:
    """Embed, write the image under a new name, then its sidecars. ``folders``: a set that
    collects the folders written to, whose fsync the caller does later, once for many files
    (a batch's commit); ``None`` syncs each folder now."""
    from dsexport import storage

    embedded = _embed(module, data, info, meta, fields, layout)
    if embedded.metadata_in == "sidecar":
        sidecars = sidecars | {"json"}
    path = storage.write_new(root, relpath, embedded.parts, sync_folder=folders is None)
    if folders is not None:
        folders.add(str(path.parent))
    # Not path.stat(): the path is re-resolved through folders that another process may have
    # swapped for a link since write_new wrote through its own file descriptors.
    written = _size(embedded.parts)
    sidecar_paths = _write_sidecars(root, path, meta.only(tuple(fields)), sidecars, folders)
    return _Published(path, written, sidecar_paths, embedded)


def _size(parts) -> int:
    return sum(memoryview(p).nbytes for p in parts)


def _write_sidecars(
    root: Path, image: Path, meta: Metadata, kinds: set[str], folders=None
) -> list[str]:
    from dsexport import storage

    written = []
    rel = image.relative_to(root)
    for kind in SIDECAR_KINDS:
        if kind not in kinds:
            continue
        text = _record_json(meta) if kind == "json" else _a1111_text(meta)
        target = storage.write_new(
            root,
            str(rel.with_suffix(f".{kind}").as_posix()),
            [text.encode("utf-8")],
            sync_folder=folders is None,
        )
        if folders is not None:
            folders.add(str(target.parent))
        written.append(str(target))
    return written


_batch: Any = None
"""The ``catalog.batch.SaveBatch`` of an active ``save_batch()`` block."""

_tickets = threading.local()


@contextmanager
def save_batch():
    """Let the saves made inside this block, from any thread, share one catalog connection and
    one write transaction at a time (``catalog.batch.SaveBatch``); the native host keeps one per
    connection and saves several images at once.

    Opening and closing the catalog for every image costs a WAL checkpoint each time, and a
    commit per image an fsync of the log. Rows stay durable: the connection runs with
    ``synchronous = FULL``, and a save's row is durable once ``take_ticket().wait()`` returns,
    at the latest when the block ends. Yields the batch, or ``None`` when the catalog cannot be
    opened (each save then tries to open it itself, as without this block).
    """
    global _batch
    import sqlite3

    if _batch is not None:
        yield _batch
        return
    catalog = None
    try:
        from dsexport.catalog import open_catalog
        from dsexport.catalog.batch import SaveBatch

        catalog = open_catalog(threads=True)
        catalog.connection.execute("PRAGMA synchronous = FULL")
    except (sqlite3.Error, OSError):
        if catalog is not None:
            catalog.close()
        yield None
        return
    batch = SaveBatch(catalog)
    _batch = batch
    try:
        yield batch
    finally:
        _batch = None
        try:
            batch.flush()
        except sqlite3.Error:
            pass  # each waiting save was told; the files themselves are saved
        finally:
            catalog.close()


def take_ticket():
    """The ``catalog.batch.Ticket`` of this thread's last save in a ``save_batch()`` block (once;
    ``None`` if it recorded nothing): ``ticket.wait()`` returns when its row is durable."""
    ticket = getattr(_tickets, "last", None)
    _tickets.last = None
    return ticket


def _active_batch():
    batch = _batch
    if batch is None:
        return None
    from dsexport.catalog.db import default_path

    # Only while it is still the catalog a fresh open would use (HOME/XDG may change).
    return batch if batch.catalog.path == default_path() else None


@contextmanager
def _catalog_lock():
    """Hold the catalog's cross-process save lock, so two hosts saving the same image at once
    save it exactly once. A broken catalog must not stop saving: it only costs deduplication."""
    import sqlite3

    batch = _active_batch()
    if batch is not None:
        with batch.exclusive() as catalog:
            yield catalog
        return
    try:
        from dsexport.catalog import open_catalog

        catalog = open_catalog()
    except (sqlite3.Error, OSError):
        yield None
        return
    try:
        with catalog.save_lock():
            yield catalog
    finally:
        catalog.close()


def embed_file(
    path: str | os.PathLike,
    metadata: Metadata | Mapping[str, Any],
    *,
    allowed_roots: Sequence[str | os.PathLike],
    config=None,
) -> SaveResult:
    """Insert metadata into an image the browser already downloaded, in place and losslessly.

    Only regular files inside ``allowed_roots`` that sniff as images are touched; the file is
    replaced atomically, so it is either the old file or the new one, never half of each.
    """
    from dsexport import storage

    cfg = _load_config(config)
    meta = _coerce_metadata(metadata)
    target = Path(os.fspath(path))
    roots = [Path(os.fspath(r)) for r in allowed_roots]
    if not target.is_absolute():
        msg = f"path must be absolute: {target}"
        raise ForbiddenPath(msg)
    if not storage.is_within(target, roots):
        msg = f"{target} is outside the folders DS Export may change"
        raise ForbiddenPath(msg)
    now = _now()
    with _open_source(target, within=roots) as data:
        _name, module, info, layout = _probe(data)
        sha = hashlib.sha256(data).hexdigest()
        # Embedding keeps it: the file's content digest after embedding too.
        content = _content_digest(module, data, layout, file_sha256=sha)
        meta = _complete(meta, sha256=sha, info=info, now=now)
        fields = tuple(cfg.embed_fields)
        embedded = _embed(module, data, info, meta, fields, layout)
        metadata_in, warnings = embedded.metadata_in, embedded.warnings
        written = _size(embedded.parts)  # not target.stat(): see _store
        if metadata_in == "file":
            storage.replace_file(target, embedded.parts, allowed_roots=roots)
            sidecars: list[str] = []
        else:
            sidecars = _write_sidecars(target.parent, target, meta.only(fields), {"json"})
        del embedded  # its parts are slices of the mapped file, which is closed next
    import sqlite3

    try:
        with _catalog_lock() as catalog:
            if catalog is not None:
                catalog.add(
                    path=str(target),
                    sha256=sha,
                    format=module.NAME,
                    size=written,
                    metadata=meta,
                    source="download",
                    content_sha256=content,
                )
    except sqlite3.Error as err:  # the file is done; the catalog only helps search (see _store)
        warnings = (
            *warnings,
            f"the catalog could not record this file ({err}); run 'dsexport reindex' later",
        )
    return SaveResult(
        path=str(target),
        format=module.NAME,
        bytes_written=written,
        sha256=sha,
        sidecars=tuple(sidecars),
        metadata_in=metadata_in,
        warnings=warnings,
        width=info.width,
        height=info.height,
    )


def read_metadata(source: Source) -> Metadata | None:
    """The metadata embedded in an image (ours, A1111, ComfyUI, NovelAI), or ``None``."""
    return inspect(source).metadata


def inspect(source: Source) -> Inspection:
    """Format facts and embedded metadata of one image."""
    from dsexport import conventions

    with _open_source(source) as data:
        name, module, info, layout = _probe(data)
        raw = module.extract(data, **_with_layout(layout))
    result = conventions.read(raw)
    if not isinstance(source, bytes | bytearray | memoryview):
        result = _with_sidecar(result, source, kept_whole=name == "avif" or info.has_c2pa)
    fields: dict[str, Any] = {
        "text": dict(raw.text),
        "exif": raw.exif is not None,
        "xmp": raw.xmp.decode("utf-8", "replace") if raw.xmp else None,
    }
    if result.fields:
        fields["parsed"] = result.fields
    return Inspection(
        format=name,
        width=info.width,
        height=info.height,
        animated=info.animated,
        has_c2pa=info.has_c2pa,
        convention=result.convention,
        metadata=result.metadata,
        fields=fields,
        problem=result.problem,
    )


def _with_sidecar(result, image: str | os.PathLike, *, kept_whole: bool):
    """``result``, or the record in the ``.json`` sidecar beside ``image``: first for files we
    keep byte for byte (AVIF, C2PA), whose sidecar is what was saved, whatever the file itself
    claims; else only when the file carries nothing."""
    from dsexport.conventions import ReadResult, record
    from dsexport.errors import BadRequest
    from dsexport.validate import check_metadata

    if not kept_whole and result.convention is not None:
        return result
    found = record.read_sidecar(image)
    if found is None:
        return result
    try:
        return ReadResult(check_metadata(found), "sidecar", result.fields)
    except BadRequest as err:
        return ReadResult(None, "sidecar", result.fields, problem=str(err))


def convert_file(
    path: str | os.PathLike,
    format: str,
    *,
    quality: int | None = None,
    out: str | os.PathLike | None = None,
    config=None,
) -> SaveResult:
    """Convert an image to ``format`` and carry its embedded metadata over."""
    existing = read_metadata(path)
    meta = existing or Metadata(extra={"file_name": Path(os.fspath(path)).name})
    # The converted file is a new file: its hash and time are its own.
    meta = meta.replace(sha256=None)
    options = SaveOptions(
        format=format,
        quality=quality,
        output_dir=os.fspath(out) if out is not None else None,
        source="cli",
    )
    return save_image(path, meta, options, config=config)


def preview_name(
    metadata: Metadata | Mapping[str, Any],
    *,
    template: str | None = None,
    ext: str = "png",
    index: int | None = None,
    sha256: str | None = None,
    config=None,
) -> str:
    """What a file with this metadata would be called, for the options page's live preview: the
    same ``naming.render`` call as a save, given the batch position a save would pass."""
    from dsexport import naming

    cfg = _load_config(config)
    meta = _coerce_metadata(metadata)
    sha = sha256 or hashlib.sha256(repr(meta).encode("utf-8")).hexdigest()
    template = template or cfg.name_template
    return naming.render(template, meta, sha256=sha, ext=ext, now=_now(), index=index)
