"""Save an image the extension staged through the browser's downloader, then delete the
staged file."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Any

from dsexport.errors import ForbiddenPath, IoError, NotFound
from dsexport.native.handlers.fields import (
    abs_path_field,
    as_result,
    download_roots,
    get_field,
    load_config,
    metadata_field,
    options_field,
)
from dsexport.native.session import Request, Session

STAGING_FOLDER = "dsexport-staging"
"""The subfolder of the browser's download folder the extension downloads images into."""

STAGED_NAME = r"dsx-[0-9a-f]{32}(?:\.[A-Za-z0-9]{1,16})?"
"""A staged file's name: 32 random hex digits; Chrome may append an extension from the MIME type."""

READ_WHOLE_BYTES = 64 * 1024 * 1024
"""Staged files up to this size are read into memory, hashed as they are read; larger ones are
memory-mapped (memory stays flat) and hashed by the pipeline."""

READ_BLOCK_BYTES = 1024 * 1024


def save_download(req: Request, session: Session) -> dict[str, Any]:
    """Save an image the extension downloaded into the staging folder, exactly as ``save``
    would, then delete the staged file (whatever the outcome, once it is known to be ours)."""
    import re

    path = abs_path_field(req)
    cleanup = get_field(req, "cleanup", bool, required=False)
    url = get_field(req, "url", str, required=False)
    if path.parent.name != STAGING_FOLDER or not re.fullmatch(STAGED_NAME, path.name):
        msg = (
            f"{path} is not a DS Export staging download (…/{STAGING_FOLDER}/dsx-<32 hex "
            "digits>); only those may be saved and deleted this way"
        )
        raise ForbiddenPath(msg)
    from dsexport import storage

    cfg = load_config()
    roots = download_roots(cfg)
    try:
        folder = os.path.realpath(path.parent)
    except OSError as err:  # a link on the way was swapped while being resolved
        msg = f"{path.parent} changed while DS Export was opening it"
        raise ForbiddenPath(msg) from err
    if os.path.basename(folder) != STAGING_FOLDER or not storage.is_within(folder, roots):
        msg = (
            f"{path} is outside the download and output folders; add its folder to "
            "'download_dirs' in the options to allow it"
        )
        raise ForbiddenPath(msg)
    session.start_batch()
    with _StagedFile(folder, path.name, roots) as staged:
        try:
            meta = metadata_field(req)
            options = options_field(req)
            if url and not meta.image_url and url.startswith(("https:", "http:")):
                from dsexport.validate import MAX_FIELD_CHARS

                meta = meta.replace(image_url=url[:MAX_FIELD_CHARS])
            result = as_result(staged.save(meta, options, cfg))
        finally:
            removed = staged.remove(cleanup=bool(cleanup))
    result["removed"] = removed
    return result


def clean_staging(req: Request, session: Session) -> dict[str, Any]:
    """Remove the staging folder once a batch is done with it, if it is empty:
    ``{"folder": "/home/ana/Downloads/dsexport-staging"}`` → ``{"removed": true}``. Anything
    else (another name, a link, a folder outside the allowed ones, files still in it) is left."""
    folder = abs_path_field(req, "folder")
    if folder.name != STAGING_FOLDER:
        msg = f"{folder} is not a DS Export staging folder (…/{STAGING_FOLDER})"
        raise ForbiddenPath(msg)
    from dsexport import storage

    roots = download_roots(load_config())
    try:
        st = os.lstat(folder)
        resolved = os.path.realpath(folder)
    except OSError:
        return {"removed": False}  # already gone
    import stat

    if stat.S_ISLNK(st.st_mode) or not storage.is_within(resolved, roots):
        msg = f"{folder} is outside the download and output folders, or a link; left alone"
        raise ForbiddenPath(msg)
    try:
        # rmdir refuses a folder that is not empty (another batch's download, the user's file).
        os.rmdir(folder)
    except OSError:
        return {"removed": False}
    return {"removed": True}


_closing: Any = None


def _close_in_background(fd: int) -> None:
    """Close ``fd`` on one daemon thread (started on first use); at exit the OS closes the rest."""
    global _closing
    import queue
    import threading

    if _closing is None:
        _closing = queue.SimpleQueue()

        def run(fds=_closing) -> None:
            while True:
                with contextlib.suppress(OSError):
                    os.close(fds.get())

        threading.Thread(target=run, name="dsexport-close", daemon=True).start()
    _closing.put(fd)


class _StagedFile:
    """A staged download opened without following links: the folder by its resolved path, the
    file relative to that folder (``dir_fd``), so the file read and the file deleted are the one
    that was checked, even if a name is swapped meanwhile. Deleting compares device and inode."""

    _DIR_FD = os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd

    def __init__(self, folder: str, name: str, roots: list[Path]) -> None:
        self.folder = folder
        self.name = name
        self.roots = roots
        self.dfd: int | None = None
        self.fd: int | None = None
        self.ident: tuple[int, int] | None = None
        self.size = 0

    def __enter__(self) -> _StagedFile:
        import stat

        nofollow = getattr(os, "O_NOFOLLOW", 0)
        flags = os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        where = os.path.join(self.folder, self.name)
        try:
            if self._DIR_FD:
                self.dfd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | nofollow)
                self._check_folder()
                self.fd = os.open(self.name, flags, dir_fd=self.dfd)
            else:
                if os.path.islink(where):
                    raise OSError(errno.ELOOP, "is a symbolic link")
                self.fd = os.open(where, flags)
            st = os.fstat(self.fd)
        except ForbiddenPath:
            self._close()
            raise
        except FileNotFoundError as err:
            self._close()
            msg = f"the staged download {where} does not exist"
            raise NotFound(msg) from err
        except OSError as err:
            self._close()
            if err.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):  # O_NOFOLLOW met a link
                msg = f"{where} is a link or not in a plain folder; it is not a staged download"
                raise ForbiddenPath(msg) from err
            msg = f"cannot read {where}: {err.strerror}"
            raise IoError(msg) from err
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            self._close()
            msg = f"{where} is not a regular file with one name; it is not a staged download"
            raise ForbiddenPath(msg)
        self.ident = (st.st_dev, st.st_ino)
        self.size = st.st_size
        return self

    def _check_folder(self) -> None:
        """Refuse if the folder was swapped for a link between resolving and opening it."""
        from dsexport import storage

        opened, now = os.fstat(self.dfd), os.stat(self.folder)
        if (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino) or not storage.is_within(
            self.folder, self.roots
        ):
            msg = f"{self.folder} changed while DS Export was opening it; nothing was read"
            raise ForbiddenPath(msg)

    def save(self, meta, options, cfg):
        from dsexport.errors import UnsupportedFormat
        from dsexport.pipeline import Hashed, save_image

        if self.size == 0:
            msg = "the staged download is empty (the server sent no bytes)"
            raise UnsupportedFormat(msg)
        if self.size <= READ_WHOLE_BYTES:
            data, sha256 = self._read_hashing()
            return save_image(Hashed(data, sha256), meta, options, config=cfg)
        import mmap

        mapped = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
        view = memoryview(mapped)
        try:
            return save_image(view, meta, options, config=cfg)
        finally:
            try:
                view.release()
                mapped.close()
            except BufferError:
                pass  # a slice is still referenced; the map closes with its last reference

    def _read_hashing(self) -> tuple[bytearray, str]:
        """The file's bytes and their SHA-256, hashed block by block as each is read (while it
        is in the cache), instead of in a second pass over the whole image."""
        import hashlib

        data = bytearray(self.size)
        view = memoryview(data)
        hasher = hashlib.sha256()
        got = 0
        with open(self.fd, "rb", buffering=0, closefd=False) as stream:
            while got < self.size:
                n = stream.readinto(view[got : got + READ_BLOCK_BYTES])
                if not n:
                    break
                hasher.update(view[got : got + n])
                got += n
            if got < self.size or stream.read(1):
                from dsexport.errors import IoError

                msg = "the staged download changed size while it was read; it is not saved"
                raise IoError(msg)
        view.release()
        return data, hasher.hexdigest()

    def remove(self, *, cleanup: bool) -> bool:
        """Delete the staged file if the name still leads to the file we read."""
        try:
            if self.dfd is not None:
                st = os.stat(self.name, dir_fd=self.dfd, follow_symlinks=False)
                if (st.st_dev, st.st_ino) != self.ident:
                    return False
                os.unlink(self.name, dir_fd=self.dfd)
                # The last close of an unlinked file frees its blocks (~2 ms for 2 MB on ext4);
                # done on a helper thread, off the reply's path. The name is already gone.
                _close_in_background(self.fd)
                self.fd = None
            else:
                # Windows cannot delete a file that is still open.
                self._close()
                where = os.path.join(self.folder, self.name)
                st = os.lstat(where)
                if (st.st_dev, st.st_ino) != self.ident:
                    return False
                os.unlink(where)
        except OSError:
            return False
        finally:
            self._close()
        if cleanup:
            # Only when the extension has no other staging download running: an empty folder
            # left in the user's Downloads is clutter, but removing it under a starting download
            # would make that download fail.
            # Not empty (another download, the user's own files) or already gone: leave it.
            with contextlib.suppress(OSError):
                os.rmdir(self.folder)
        return True

    def _close(self) -> None:
        for fd in (self.fd, self.dfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.fd = self.dfd = None

    def __exit__(self, *exc: object) -> None:
        self._close()
