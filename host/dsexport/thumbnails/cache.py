"""The thumbnail cache: ``<cache dir>/thumbnails/<2 hex>/<key>.thumb``, capped in size.

A key is a hash of the file's path, size, modification time and inode and of the thumbnail size,
so an edited, replaced or moved file gets a new thumbnail and the stale one ages out. Reading a
thumbnail refreshes its time (at most once a minute), and when the folder grows past the cap the
least recently used files go until it is back under 90 % of it. Several helper processes (one
per browser window) share the folder: every file appears whole (written aside, then renamed),
and a file another process evicted is simply made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

VERSION = 2
"""Part of every key: raise it when thumbnails are made differently, and old ones age out."""

SUFFIX = ".thumb"
TOUCH_AFTER_S = 60.0
"""A thumbnail read again within this time keeps its old time (one metadata write per view at
most once a minute)."""
MAX_THUMB_BYTES = 4 * 1024 * 1024
"""A cached file larger than this is not one of ours."""
STALE_TEMP_S = 600.0
DEFAULT_LIMIT_MB = 300


@dataclass(frozen=True)
class Usage:
    files: int
    bytes: int


class ThumbnailCache:
    """Thumbnails on disk under ``folder``, at most ``limit_bytes`` in all."""

    def __init__(self, folder: Path, limit_bytes: int) -> None:
        self.folder = Path(folder)
        self.limit_bytes = int(limit_bytes)
        self._lock = threading.Lock()
        self._estimate: int | None = None
        """Bytes in the folder as this process believes (scanned once, then counted)."""

    @staticmethod
    def key(path: str, st: os.stat_result, size: int) -> str:
        text = f"{VERSION}\0{size}\0{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]

    def path_for(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}{SUFFIX}"

    def has(self, key: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(self.path_for(key)).st_mode)
        except OSError:
            return False

    def get(self, key: str) -> bytes | None:
        """The thumbnail stored under ``key``, or ``None``."""
        target = self.path_for(key)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(target, flags)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_THUMB_BYTES:
                return None
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = fh.read(MAX_THUMB_BYTES + 1)
            if time.time() - st.st_mtime > TOUCH_AFTER_S:
                with contextlib.suppress(OSError):
                    os.utime(target)
            return data or None
        finally:
            os.close(fd)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (whole or not at all); keep the folder under its cap."""
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with self._lock:
            if self._estimate is None:
                self._estimate = self.usage().bytes
            else:
                self._estimate += len(data)
            over = self._estimate > self.limit_bytes
        if over:
            self.evict()

    def usage(self) -> Usage:
        files = total = 0
        for _, size, _ in self._entries():
            files += 1
            total += size
        return Usage(files, total)

    def evict(self, target_bytes: int | None = None) -> Usage:
        """Delete the least recently used thumbnails until at most ``target_bytes`` (default 90 %
        of the cap) remain; also temp files a killed writer left. Returns what is left."""
        goal = int(self.limit_bytes * 0.9) if target_bytes is None else target_bytes
        entries = sorted(self._entries(include_temp=True), key=lambda e: e[2])  # oldest first
        now = time.time()
        kept, total = [], 0
        for path, size, mtime in entries:
            if path.name.startswith(".tmp-"):
                if now - mtime > STALE_TEMP_S:
                    with contextlib.suppress(OSError):
                        path.unlink()
                continue
            kept.append((path, size))
            total += size
        left = len(kept)
        for path, size in kept:
            if total <= goal:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
                left -= 1
        with self._lock:
            self._estimate = total
        return Usage(left, total)

    def clear(self) -> Usage:
        """Delete every thumbnail (they are made again when shown)."""
        return self.evict(0)

    def _entries(self, *, include_temp: bool = False):
        """``(path, size, mtime)`` of every file in the cache's subfolders."""
        try:
            top = list(os.scandir(self.folder))
        except OSError:
            return
        for sub in top:
            if len(sub.name) != 2 or not sub.is_dir(follow_symlinks=False):
                continue
            try:
                files = list(os.scandir(sub.path))
            except OSError:
                continue
            for entry in files:
                if not entry.name.endswith(SUFFIX):
                    continue
                if entry.name.startswith(".tmp-") and not include_temp:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    yield Path(entry.path), st.st_size, st.st_mtime


def default_cache(limit_mb: int | None = None) -> ThumbnailCache:
    """The user's cache: ``<cache dir>/thumbnails``, capped at the config's
    ``thumbnail_cache_mb`` (or ``limit_mb``)."""
    from dsexport import paths

    if limit_mb is None:
        limit_mb = configured_limit_mb()
    folder = paths.cache_dir() / "thumbnails"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return ThumbnailCache(folder, limit_mb * 1024 * 1024)


def configured_limit_mb() -> int:
    from dsexport.config import load_config
    from dsexport.errors import DsError

    try:
        return int(getattr(load_config(), "thumbnail_cache_mb", DEFAULT_LIMIT_MB))
    except DsError:  # a broken config file must not cost the library its thumbnails
        return DEFAULT_LIMIT_MB
