"""Keeping the catalog true to the files: ``reindex`` rebuilds it from what is embedded in them,
``check`` finds files that were moved or deleted and repairs the rows.

Example::

    with open_catalog() as cat:
        reindex(cat, [Path("~/Pictures/DeepSeek").expanduser()])
        report = check(cat)          # moved files are followed, deleted ones forgotten
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dsexport.catalog.db import Catalog, Entry
from dsexport.catalog.files import FileFacts, iter_images, read_file, read_many
from dsexport.errors import DsError

BATCH = 256
"""Rows written per transaction: large enough to be fast, small enough that a browser saving
meanwhile waits a few milliseconds, not seconds."""

Advance = Callable[[], None]


@dataclass
class ReindexReport:
    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Files that are not images we read, or whose metadata is out of bounds, with the reason.
    The rest of the folder is catalogued all the same."""

    def to_dict(self) -> dict:
        return {**self.__dict__, "skipped": [{"path": p, "reason": r} for p, r in self.skipped]}


@dataclass
class CheckReport:
    checked: int = 0
    ok: int = 0
    moved: list[tuple[str, str]] = field(default_factory=list)
    """``(old path, new path)`` of files found elsewhere."""
    missing: list[str] = field(default_factory=list)
    """Files gone and not found anywhere searched (forgotten when repairing)."""
    changed: list[str] = field(default_factory=list)
    """Files whose size or time changed (read again when repairing)."""
    repaired: bool = False

    def to_dict(self) -> dict:
        return {
            **self.__dict__,
            "moved": [{"from": a, "to": b} for a, b in self.moved],
        }


def default_roots() -> list[Path]:
    """The configured output folder: where DS Export's own saves are."""
    from dsexport.config import load_config

    return [Path(load_config().output_dir).expanduser()]


def _norm(path: str | os.PathLike) -> str:
    return os.path.abspath(os.fspath(path))


def _under(path: str, roots: Sequence[str], recursive: bool) -> bool:
    for root in roots:
        if recursive:
            if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
                return True
        elif os.path.dirname(path) == root:
            return True
    return False


class _Writer:
    """Buffers catalog changes and writes them ``BATCH`` at a time in one transaction."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.pending: list[Callable[[], None]] = []

    def __call__(self, change: Callable[[], None]) -> None:
        self.pending.append(change)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.catalog.batch():
            for change in self.pending:
                change()
        self.pending.clear()


def add_facts(
    catalog: Catalog,
    facts: FileFacts,
    *,
    source: str,
    saved_at: str | None = None,
    force: bool = False,
) -> bool:
    """Record one file as read from disk; False when the catalog already had it as it is
    (unless ``force``: ``reindex --full`` rewrites every row).

    Runs inside the writer's transaction, so it sees a row a concurrent save added after the
    file was read: that row (and how the file was saved: toolbar, menu…) is kept."""
    from dsexport.model import Metadata

    current = catalog.get(facts.path)
    if current is not None:
        unchanged = (current.bytes, current.mtime_ns) == (facts.size, facts.mtime_ns)
        if not force and unchanged and current.content_sha256 == facts.content_sha256:
            return False
        source = current.source or source
        saved_at = current.saved_at
    meta = facts.metadata or Metadata()
    if not meta.captured_at:
        meta = meta.replace(captured_at=facts.mtime_iso)
    catalog.add(
        path=facts.path,
        sha256=facts.sha256,
        format=facts.format,
        size=facts.size,
        metadata=meta,
        width=facts.width,
        height=facts.height,
        source=source,
        saved_at=saved_at or facts.mtime_iso,
        mtime_ns=facts.mtime_ns,
        content_sha256=facts.content_sha256,
    )
    return True


def reindex(
    catalog: Catalog,
    roots: Iterable[str | os.PathLike] | None = None,
    *,
    recursive: bool = True,
    full: bool = False,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> ReindexReport:
    """Bring the catalog in line with the image files under ``roots`` (default: the output folder).

    Every image is read and recorded from its embedded metadata and identified by its bytes;
    files whose size and time are what the catalog already has (and whose content digest it
    knows) are skipped unless ``full``. A file that cannot be read, or whose metadata is out of
    bounds, is skipped with its reason. Rows under ``roots`` whose file is gone are removed.
    ``progress(total)`` may return a function called once per file.
    """
    folders = [_norm(r) for r in (roots if roots is not None else default_roots())]
    files = list(iter_images(folders, recursive=recursive))
    known: dict[str, Entry] = {
        e.path: e for e in catalog.iter_entries() if _under(e.path, folders, recursive)
    }
    report = ReindexReport()
    advance = progress(len(files)) if progress else None
    write = _Writer(catalog)
    seen: set[str] = set()
    to_read: list[str] = []
    for path in files:
        text = str(path)
        seen.add(text)
        report.scanned += 1
        before = known.get(text)
        if before is not None and not full:
            try:
                st = os.stat(text)
            except OSError:
                st = None
            recorded = (before.bytes, before.mtime_ns)
            if st and (st.st_size, st.st_mtime_ns) == recorded and before.content_sha256:
                report.unchanged += 1
                if advance:
                    advance()
                continue
        to_read.append(text)
    for text, facts in read_many(to_read):
        if advance:
            advance()
        before = known.get(text)
        if not isinstance(facts, FileFacts):
            report.skipped.append((text, str(facts)))
            if before is not None:
                write(lambda p=text: catalog.remove(p))
                report.removed += 1
            continue
        source = before.source if before and before.source else "reindex"
        saved_at = before.saved_at if before else None
        write(
            lambda f=facts, s=source, t=saved_at: add_facts(
                catalog, f, source=s, saved_at=t, force=full
            )
        )
        if before is None:
            report.added += 1
        else:
            report.updated += 1
    for path in known:
        if path not in seen and not os.path.isfile(path):
            write(lambda p=path: catalog.remove(p))
            report.removed += 1
    write.flush()
    return report


def check(
    catalog: Catalog,
    search_roots: Iterable[str | os.PathLike] | None = None,
    *,
    repair: bool = True,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> CheckReport:
    """Find catalogued files that are gone, look for them under ``search_roots`` (default: the
    output folder and the nearest existing folder of each missing file), and, when ``repair``,
    point moved rows at the new place, forget deleted files and re-read changed ones.

    A moved file is recognised by content: same size first (cheap), then the same content
    digest computed from its bytes.
    """
    report = CheckReport(repaired=repair)
    missing: list[Entry] = []
    changed: list[Entry] = []
    known: set[str] = set()
    total = catalog.count()
    advance = progress(total) if progress else None
    for entry in catalog.iter_entries():
        report.checked += 1
        known.add(entry.path)
        try:
            st = os.lstat(entry.path)
        except OSError:
            missing.append(entry)
        else:
            if not stat.S_ISREG(st.st_mode):
                missing.append(entry)
            elif st.st_size != entry.bytes or (
                entry.mtime_ns is not None and st.st_mtime_ns != entry.mtime_ns
            ):
                changed.append(entry)
            else:
                report.ok += 1
        if advance:
            advance()
    moves = _find_moved(missing, known, search_roots) if missing else {}
    write = _Writer(catalog)
    for entry in missing:
        new = moves.get(entry.id)
        if new is not None:
            report.moved.append((entry.path, new.path))
            if repair:
                write(lambda e=entry, f=new: catalog.move(e.id, f.path, mtime_ns=f.mtime_ns))
        else:
            report.missing.append(entry.path)
            if repair:
                write(lambda p=entry.path: catalog.remove(p))
    for entry in changed:
        report.changed.append(entry.path)
        if not repair:
            continue
        try:
            facts = read_file(entry.path)
        except (DsError, OSError):
            write(lambda p=entry.path: catalog.remove(p))
            continue
        write(
            lambda f=facts, e=entry: add_facts(
                catalog, f, source=e.source or "reindex", saved_at=e.saved_at
            )
        )
    write.flush()
    return report


def _search_roots(missing: Sequence[Entry], given: Iterable[str | os.PathLike] | None) -> list[str]:
    if given is not None:
        return [_norm(r) for r in given]
    roots: list[str] = []
    with contextlib.suppress(DsError):  # an unreadable config must not stop a check
        roots.extend(str(r) for r in default_roots())
    home = os.path.expanduser("~")
    for entry in missing:
        # The file's folder, or its parent when the folder itself was renamed or removed; going
        # further up would mean walking the whole home folder on a guess.
        parent = os.path.dirname(entry.path)
        for folder in (parent, os.path.dirname(parent)):
            if os.path.isdir(folder):
                if folder != home and os.path.dirname(folder) != folder:
                    roots.append(folder)
                break
    # Drop roots inside other roots so nothing is walked twice.
    unique = sorted(set(roots), key=len)
    kept: list[str] = []
    for root in unique:
        if not any(_under(root, [k], True) for k in kept):
            kept.append(root)
    return [r for r in kept if os.path.isdir(r)]


def _find_moved(
    missing: Sequence[Entry], known: set[str], given: Iterable[str | os.PathLike] | None
) -> dict[int, FileFacts]:
    by_size: dict[int, list[Entry]] = {}
    for entry in missing:
        by_size.setdefault(entry.bytes, []).append(entry)
    found: dict[int, FileFacts] = {}
    for path in iter_images(_search_roots(missing, given), recursive=True):
        text = str(path)
        if text in known:
            continue
        try:
            size = os.lstat(text).st_size
        except OSError:
            continue
        candidates = [e for e in by_size.get(size, ()) if e.id not in found]
        if not candidates:
            continue
        try:
            facts = read_file(text)
        except (DsError, OSError):
            continue
        for entry in candidates:
            # Rows from before content digests: the hash of the file itself, read just now.
            if entry.content_sha256:
                same = entry.content_sha256 == facts.content_sha256
            else:
                same = entry.sha256 == facts.sha256
            if entry.format == facts.format and same:
                found[entry.id] = facts
                known.add(text)
                break
    return found
