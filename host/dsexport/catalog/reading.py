"""Reading catalogued files for the library page, checked again on disk before every read.

The page names images by catalog id, never by path, so it can only ever read files the catalog
holds. The catalog may be stale (a file moved, deleted, replaced by a link or a folder), so each
read ``lstat``s the path (a regular file, not a link), opens it read-only without following a
link and without blocking on a FIFO, and ``fstat``s the descriptor: it must still be a regular
file, the very one ``lstat`` saw. Nothing here ever writes to the file. Example::

    with open_checked("/home/ana/Pictures/DeepSeek/cat.png") as (fh, st):
        head = fh.read(4096)
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from dsexport.errors import ForbiddenPath, IoError, NotFound, UnsupportedFormat

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

MAX_FILE_BYTES = 1 << 30
"""Catalogued files larger than this are not served (no image we save comes near it)."""


def check_path(path: str) -> os.stat_result:
    """``lstat`` of a catalogued path that is a regular file (not a link, a folder or a device);
    ``NotFound`` when it is gone or no longer a regular file (moved, deleted, replaced)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError as err:
        msg = f"{path} no longer exists (moved or deleted; 'check' repairs the catalog)"
        raise NotFound(msg) from err
    except OSError as err:
        msg = f"cannot look at {path}: {err.strerror}"
        raise IoError(msg) from err
    if stat.S_ISLNK(st.st_mode) or _is_windows_link(st):
        msg = f"{path} is now a link; the library reads only regular files"
        raise ForbiddenPath(msg)
    if not stat.S_ISREG(st.st_mode):
        msg = f"{path} is no longer a regular file"
        raise NotFound(msg)
    return st


def _is_windows_link(st: os.stat_result) -> bool:
    reparse = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    return bool(reparse and getattr(st, "st_file_attributes", 0) & reparse)


@contextlib.contextmanager
def open_checked(path: str) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """The file at ``path`` opened read-only, with its ``fstat``, if it is still the regular file
    ``lstat`` sees there (see the module docstring)."""
    before = check_path(path)
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError as err:
        msg = f"{path} no longer exists (moved or deleted; 'check' repairs the catalog)"
        raise NotFound(msg) from err
    except OSError as err:
        if err.errno == errno.ELOOP:
            msg = f"{path} is now a link; the library reads only regular files"
            raise ForbiddenPath(msg) from err
        msg = f"cannot open {path}: {err.strerror}"
        raise IoError(msg) from err
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            msg = f"{path} changed while it was being opened; try again"
            raise ForbiddenPath(msg)
        if st.st_size > MAX_FILE_BYTES:
            msg = f"{path} is larger than {MAX_FILE_BYTES} bytes"
            raise UnsupportedFormat(msg)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # O_NONBLOCK only guarded the open against a FIFO
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh, st


def read_range(path: str, offset: int, length: int, *, expect_format: str | None = None):
    """``(bytes, stat)``: up to ``length`` bytes from ``offset`` of the file at ``path``, read
    through ``open_checked``. With ``expect_format``, the file's first bytes must still sniff as
    that format (a catalogued image replaced by something else is refused)."""
    from dsexport.sniff import SNIFF_BYTES, sniff

    with open_checked(path) as (fh, st):
        if expect_format is not None:
            head = fh.read(SNIFF_BYTES)
            try:
                found = sniff(head)
            except UnsupportedFormat as err:
                msg = f"{path} is no longer a {expect_format.upper()} image: {err}"
                raise UnsupportedFormat(msg) from err
            if found != expect_format:
                msg = f"{path} now holds a {found.upper()} image, not a {expect_format.upper()}"
                raise UnsupportedFormat(msg)
        fh.seek(offset)
        data = fh.read(length)
    return data, st
