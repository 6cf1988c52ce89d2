"""``dsexport import``: make existing images searchable — A1111, ComfyUI, NovelAI and DS Export
files (and any with readable XMP) — where they are, or copied/moved into the output folder.

In place (the default) nothing is written to the files: the catalog only records them. ``copy``
and ``move`` go through ``pipeline.save_image``, so the copy gets the output folder's naming,
our record embedded next to the other tool's metadata, deduplication, and never overwrites a
file. ``move`` deletes an original only after reading the file in the output folder back and
finding the same picture bytes in it (``content_digest``), with the original unchanged since it
was read; when that file is an earlier save (a duplicate), only if it was saved from exactly
these bytes, so metadata only the original carries is never lost. Nothing a file says about
itself (a record's ``sha256``) takes part in that decision.
Example::

    with open_catalog() as cat:
        report = import_paths(cat, ["~/stable-diffusion-webui/outputs"], recursive=True)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dsexport.catalog.db import Catalog
from dsexport.catalog.files import FileFacts, UnusableMetadata, iter_images, read_many
from dsexport.catalog.maintain import _Writer, add_facts
from dsexport.errors import BadRequest, DsError

MODES = ("index", "copy", "move")


@dataclass
class ImportReport:
    found: int = 0
    imported: int = 0
    """Catalogued in place, or copied/moved."""
    already: int = 0
    """Already in the catalog, unchanged (in place) or already saved (copy/move: duplicates)."""
    no_metadata: int = 0
    """Images without any prompt metadata (skipped unless ``include_all``)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Images whose metadata is out of bounds (``UnusableMetadata``), with the reason; the
    rest is imported all the same."""
    saved: list[tuple[str, str]] = field(default_factory=list)
    """``(source, destination)`` for copy/move."""
    kept: list[tuple[str, str]] = field(default_factory=list)
    """``move``: originals left in place, with the reason (the copy could not be verified, or
    an earlier save of the same picture carries other metadata)."""
    conventions: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            **self.__dict__,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "saved": [{"from": a, "to": b} for a, b in self.saved],
            "kept": [{"path": p, "reason": r} for p, r in self.kept],
        }


def import_paths(
    catalog: Catalog | None,
    paths: Iterable[str | os.PathLike],
    *,
    mode: str = "index",
    recursive: bool = False,
    include_all: bool = False,
    output_dir: str | os.PathLike | None = None,
    progress: Callable[[int], Callable[[], None]] | None = None,
    config=None,
) -> ImportReport:
    """Import image files and folders (``recursive``: their subfolders too).

    ``mode``: ``index`` records files where they are; ``copy``/``move`` save them into
    ``output_dir`` (default: the configured output folder) through the save pipeline, which
    records them in the default catalog. ``catalog`` may be ``None`` for those two modes.
    """
    if mode not in MODES:
        msg = f"import mode must be one of {', '.join(MODES)}, not {mode!r}"
        raise BadRequest(msg)
    if mode == "index" and catalog is None:
        msg = "importing in place needs an open catalog"
        raise BadRequest(msg)
    files = list(iter_images([Path(os.fspath(p)).expanduser() for p in paths], recursive=recursive))
    report = ImportReport(found=len(files))
    advance = progress(len(files)) if progress else None
    write = _Writer(catalog) if catalog is not None else None
    to_read: list[str] = []
    for path in files:
        text = str(path)
        if mode == "index" and catalog is not None and _unchanged(catalog, text):
            report.already += 1
            if advance:
                advance()
            continue
        to_read.append(text)
    for text, facts in read_many(to_read):
        try:
            if not isinstance(facts, FileFacts):
                raise facts
            _import_one(catalog, write, facts, mode, include_all, output_dir, config, report)
        except UnusableMetadata as err:
            report.skipped.append((text, str(err)))
        except (DsError, OSError) as err:
            report.failed.append((text, str(err)))
        finally:
            if advance:
                advance()
    if write is not None:
        write.flush()
    return report


def _unchanged(catalog: Catalog, path: str) -> bool:
    before = catalog.get(path)
    if before is None:
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (before.bytes, before.mtime_ns)


def _import_one(catalog, write, facts: FileFacts, mode, include_all, output_dir, config, report):
    text = facts.path
    if facts.metadata is None and not include_all:
        report.no_metadata += 1
        return
    key = facts.convention or "none"
    report.conventions[key] = report.conventions.get(key, 0) + 1
    if mode == "index":
        write(lambda f=facts: add_facts(catalog, f, source="import"))
        report.imported += 1
        return
    result = _save_copy(facts, output_dir, config)
    if result.duplicate:
        report.already += 1
    else:
        report.imported += 1
    report.saved.append((text, result.path))
    if mode == "move" and not _same_file(text, result.path):
        reason = _why_keep(facts, result, catalog)
        if reason is not None:
            report.kept.append((text, reason))
            return
        os.unlink(text)
        if catalog is not None:
            write(lambda p=text: catalog.remove(p))


def _why_keep(facts: FileFacts, result, catalog: Catalog | None) -> str | None:
    """``None`` when the original may be deleted (see the module docstring), else why not.
    Both files are read again now: nothing decided earlier, and nothing either file says about
    itself, is taken on trust."""
    from dsexport.catalog.files import digests

    try:
        source_sha, source_content, source_fmt = digests(facts.path)
        copy_sha, copy_content, copy_fmt = digests(result.path)
    except (DsError, OSError) as err:
        return f"kept: the copy could not be verified ({err})"
    if (source_content, source_fmt) != (copy_content, copy_fmt):
        return f"kept: {result.path} does not hold the same picture"
    if source_sha != facts.sha256:
        return "kept: the file changed while it was being imported"
    if not result.duplicate:
        return None
    saved_from = _recorded_hash(catalog, result.path)
    if source_sha in (saved_from, copy_sha):
        return None
    return (
        f"kept: the same picture is already saved as {result.path}, but this file carries "
        "other metadata; delete it yourself if you do not need that"
    )


def _recorded_hash(catalog: Catalog | None, path: str) -> str | None:
    """The ``sha256`` the catalog recorded for ``path``: the hash of the bytes it was saved
    from, computed by the pipeline when it read them."""
    if catalog is not None:
        entry = catalog.get(path)
        return entry.sha256 if entry else None
    from dsexport.catalog import open_catalog

    with open_catalog() as default:
        entry = default.get(path)
        return entry.sha256 if entry else None


def _save_copy(facts: FileFacts, output_dir, config):
    from dsexport.model import Metadata, SaveOptions
    from dsexport.pipeline import save_image

    meta = facts.metadata or Metadata()
    extra = dict(meta.extra)
    extra.setdefault("file_name", os.path.basename(facts.path))
    # The copy is a new file of the same picture: when it was made matters, not when we copied it.
    meta = meta.replace(captured_at=meta.captured_at or facts.mtime_iso, sha256=None, extra=extra)
    options = SaveOptions(
        format="original",
        output_dir=os.fspath(Path(os.fspath(output_dir)).expanduser().resolve())
        if output_dir is not None
        else None,
        source="import",
    )
    return save_image(facts.path, meta, options, config=config)


def _same_file(a: str, b: str) -> bool:
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False
