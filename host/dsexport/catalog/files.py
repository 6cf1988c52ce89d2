"""Finding image files in folders and reading what the catalog records about each one.

Shared by ``reindex``, ``check`` and ``import``: the files are the source of truth, so every one
of them reads the metadata embedded in the file (``pipeline.inspect``), or in the ``.json``
sidecar beside it when the file could not take any (C2PA, AVIF).

What a file says about itself is only ever its metadata: identity comes from its bytes.
``sha256`` is the hash of the file, ``content_sha256`` its format's ``content_digest`` (the
picture without metadata, the dedupe key); the ``sha256`` a record inside the file claims is
never used for either.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dsexport.errors import CorruptImage, DsError, IoError, NotFound
from dsexport.model import Metadata

#: File name extensions worth opening (lower case, no dot). Sniffing decides the real format.
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "jpe", "jfif", "webp", "gif", "avif", "svg"})


class UnusableMetadata(CorruptImage):
    """The file is an image, but the metadata it carries is out of the bounds every request is
    held to (a 23-digit step count, a CFG scale of 1e999, nesting hundreds deep): it is skipped,
    with this reason, rather than catalogued."""


@dataclass(frozen=True)
class FileFacts:
    """What the catalog knows of one file, e.g. ``FileFacts(path="/a/cat.png", format="png")``."""

    path: str
    format: str
    size: int
    mtime_ns: int
    width: int | None
    height: int | None
    metadata: Metadata | None
    convention: str | None
    """Where the metadata came from: ``dsexport``, ``a1111``, ``comfyui``, ``novelai``, ``xmp``,
    ``sidecar``; ``None`` when the file carries none."""
    sha256: str
    """SHA-256 of the file's bytes as read."""
    content_sha256: str
    """The format's ``content_digest`` of the same bytes: what identifies the picture."""

    @property
    def mtime_iso(self) -> str:
        return datetime.fromtimestamp(self.mtime_ns / 1e9).astimezone().isoformat("T", "seconds")


def is_image_name(name: str) -> bool:
    return name.rpartition(".")[2].lower() in IMAGE_EXTENSIONS and not name.startswith(".")


def iter_images(roots: Iterable[str | os.PathLike], *, recursive: bool = True) -> Iterator[Path]:
    """Image files under ``roots`` (files given directly are yielded as they are), sorted per
    folder. Symbolic links are not followed and hidden names (temporary files) are skipped."""
    for root in roots:
        path = Path(os.path.abspath(os.fspath(root)))
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            msg = f"no such file or folder: {path}"
            raise NotFound(msg) from None
        if stat.S_ISREG(st.st_mode):
            yield path
        elif stat.S_ISDIR(st.st_mode):
            yield from _walk(path, recursive)


def _walk(folder: Path, recursive: bool) -> Iterator[Path]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return  # an unreadable folder is skipped, as `find` would
    subfolders = []
    for entry in entries:
        try:
            if entry.is_symlink():
                continue
            if entry.is_file() and is_image_name(entry.name):
                yield Path(entry.path)
            elif recursive and entry.is_dir() and not entry.name.startswith("."):
                subfolders.append(entry.path)
        except OSError:
            continue
    for sub in subfolders:
        yield from _walk(Path(sub), recursive)


def read_file(path: str | os.PathLike) -> FileFacts:
    """Format, size and embedded metadata of one image. Raises ``DsError`` subclasses for files
    that are not images we read (``UnsupportedFormat``, ``CorruptImage``, ``NotFound``…)."""
    from dsexport.pipeline import inspect

    target = os.path.abspath(os.fspath(path))
    info = inspect(target)
    if info.problem:
        # Numbers or nesting out of bounds in what the file carries: cataloguing it would put
        # them into every search result and bundle (docs/metadata.md, "Reading").
        msg = f"its metadata is not usable: {info.problem}"
        raise UnusableMetadata(msg)
    st = os.stat(target)
    sha, content, fmt = digests(target)
    if fmt != info.format:
        msg = f"{target} changed while it was being read"
        raise IoError(msg)
    return FileFacts(
        path=target,
        format=info.format,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        width=info.width,
        height=info.height,
        metadata=info.metadata,
        convention=info.convention,
        sha256=sha,
        content_sha256=content,
    )


def digests(path: str | os.PathLike) -> tuple[str, str, str]:
    """(SHA-256 of the file, its format's ``content_digest``, the format) from one read of its
    bytes; raises ``DsError`` subclasses for files that are not images we read."""
    from dsexport.formats import FORMATS, content_digest
    from dsexport.pipeline import open_image
    from dsexport.sniff import sniff

    with open_image(path) as data:
        fmt = sniff(data)
        sha = hashlib.sha256(data).hexdigest()
        return sha, content_digest(FORMATS[fmt], data, file_sha256=sha), fmt


READ_WINDOW = 64
"""Files read ahead of the one being recorded: enough to keep every worker busy, few enough that
memory does not grow with the folder."""

THREADS_FROM_BYTES = 256 * 1024
"""Average file size from which reading on threads pays: below it, parsing (which holds the GIL)
dominates and thread hand-offs made a 2,000-file reindex of small PNGs slower, not faster."""


def read_many(
    paths: Iterable[str | os.PathLike], *, workers: int | None = None
) -> Iterator[tuple[str, FileFacts | DsError | OSError]]:
    """``(path, facts or the error)`` for each path, in order, read by a few threads: hashing
    (hashlib) and file reads release the GIL, so large files go about as many times faster as
    there are cores; small ones gain little, and lose nothing."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    paths = [str(p) for p in paths]
    count = workers or min(4, os.cpu_count() or 1)
    if workers is None and _average_size(paths) < THREADS_FROM_BYTES:
        count = 1

    def one(path: str) -> FileFacts | DsError | OSError:
        try:
            return read_file(path)
        except (DsError, OSError) as err:
            return err

    if count <= 1:
        for path in paths:
            yield str(path), one(str(path))
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="dsexport-read") as pool:
        pending: deque = deque()
        for path in paths:
            pending.append((str(path), pool.submit(one, str(path))))
            if len(pending) >= READ_WINDOW:
                name, future = pending.popleft()
                yield name, future.result()
        while pending:
            name, future = pending.popleft()
            yield name, future.result()


def _average_size(paths: list[str], sample: int = 32) -> float:
    step = max(1, len(paths) // sample)
    sizes = []
    for path in paths[::step][:sample]:
        with contextlib.suppress(OSError):
            sizes.append(os.stat(path).st_size)
    return sum(sizes) / len(sizes) if sizes else 0.0
