"""Every file DS Export writes into a user's folder goes through here.

Three promises, whatever happens (crash, disk full, another process, a hostile name):

* **Whole or nothing.** Data goes to a temporary file in the target folder, is fsynced, and only
  then appears under its final name; a failure removes the temporary file.
* **Never overwrite.** ``write_new`` publishes with ``os.link`` (fails if the name exists), so two
  processes saving ``cat.png`` at once get ``cat.png`` and ``cat (2).png``. On file systems
  without hard links (FAT, exFAT, some network shares) the name is first reserved with
  ``O_CREAT|O_EXCL`` and the temporary file renamed onto that reservation; there, an empty file
  may be visible under the final name for the moment between the two calls.
* **Never outside the root.** Folders below ``root`` are walked with ``openat``-style ``dir_fd``
  calls and ``O_NOFOLLOW``: a symbolic link anywhere below ``root`` is refused (``ForbiddenPath``)
  even if it is swapped in while we walk. ``root`` itself may be a link (e.g. Pictures on another
  disk); that is the user's choice. Where ``dir_fd`` is not available (Windows), each folder is
  checked with ``lstat`` just before use, which leaves a small race window that only a local
  attacker with write access to the output folder could use.

``replace_file`` is the in-place variant for ``embed``: it swaps a regular file for a new version
with ``os.replace`` in the same folder, keeping the file's permission bits. A file with several
hard links is allowed: the rename gives *this* name the new content and leaves the other links'
content untouched, so no file outside the allowed folders can change through a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from dsexport.errors import ForbiddenPath, IoError, NotFound

Parts = Iterable[bytes | bytearray | memoryview]

MAX_COLLISIONS = 10_000
"""Give up numbering after ``name (10000).ext``: something is wrong with the folder."""

TEMP_PREFIX = ".dsexport-"
TEMP_SUFFIX = ".tmp"

_HAVE_DIR_FD = (
    os.open in os.supports_dir_fd
    and os.mkdir in os.supports_dir_fd
    and os.link in os.supports_dir_fd
    and hasattr(os, "O_NOFOLLOW")
    and hasattr(os, "O_DIRECTORY")
)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

#: errno values meaning "this file system cannot make hard links".
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def _temp_name() -> str:
    """A temporary file or folder name: 16 hex digits from the OS's random source (what
    ``secrets.token_hex(8)`` returns, without importing ``secrets`` and with it ``random``,
    ``hmac`` and ``base64`` into every save connection's start-up)."""
    return f"{TEMP_PREFIX}{os.urandom(8).hex()}{TEMP_SUFFIX}"


# --- public API ------------------------------------------------------------------------------


def write_new(root: Path, relpath: str, parts: Parts, *, sync_folder: bool = True) -> Path:
    """Write ``parts`` as a new file at ``root/relpath``; return the path actually used.

    ``relpath`` is ``/``-separated (``naming.render`` output); missing folders are created. If the
    name is taken, ``name (2).ext``, ``name (3).ext``… is used instead. Example::

        write_new(Path("~/Pictures/DeepSeek").expanduser(), "2026-11-25/cat.png", [data])

    ``sync_folder=False`` leaves the fsync of the file's folder (which makes its new name
    durable) to the caller, who syncs it once for many files (``sync_folder()``); the file's
    data is fsynced either way.
    """
    root = Path(os.fspath(root))
    folders, filename = _split_relpath(relpath)
    if _HAVE_DIR_FD:
        final = _write_new_fd(root, folders, filename, parts, sync_folder=sync_folder)
    else:
        final = _write_new_paths(root, folders, filename, parts)
    return root.joinpath(*folders, final)


def replace_file(path: Path, parts: Parts, *, allowed_roots: Sequence[Path]) -> None:
    """Atomically replace the existing regular file ``path`` with ``parts``, keeping its mode.

    ``path`` must be inside one of ``allowed_roots`` (after resolving links in its folders) and
    must itself be a regular file, not a link: otherwise ``ForbiddenPath``.
    """
    path = Path(os.path.abspath(os.fspath(path)))
    if not is_within(path, allowed_roots):
        msg = f"{path} is outside the folders DS Export may change"
        raise ForbiddenPath(msg)
    try:
        folder, name = os.path.realpath(path.parent), path.name
    except OSError as err:  # a link on the way was swapped while being resolved
        msg = f"{path.parent} changed while DS Export was opening it; nothing was written"
        raise ForbiddenPath(msg) from err
    try:
        dfd = _open_dir(folder)
    except OSError as err:
        raise _io_error(err, folder, root=True) from err
    try:
        _check_still_within(dfd, folder, allowed_roots)
        try:
            st = (
                os.lstat(name, dir_fd=dfd) if _HAVE_DIR_FD else os.lstat(os.path.join(folder, name))
            )
        except FileNotFoundError as err:
            msg = f"{path} does not exist"
            raise NotFound(msg) from err
        if stat.S_ISLNK(st.st_mode):
            msg = f"{path} is a symbolic link; DS Export only changes regular files"
            raise ForbiddenPath(msg)
        if not stat.S_ISREG(st.st_mode):
            msg = f"{path} is not a regular file"
            raise ForbiddenPath(msg)
        tmp = _write_temp(dfd, folder, parts, mode=stat.S_IMODE(st.st_mode))
        try:
            if _HAVE_DIR_FD:
                os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            else:
                os.replace(os.path.join(folder, tmp), os.path.join(folder, name))
        except OSError as err:
            _unlink_quietly(dfd, folder, tmp)
            raise _io_error(err, folder) from err
        _fsync_dir(dfd)
    finally:
        _close_dir(dfd)


def open_for_reading(path: Path, allowed_roots: Sequence[Path]) -> int:
    """Open the existing file ``path`` read-only and return the descriptor, only if the folder
    it is in is inside one of ``allowed_roots`` at the moment it is opened: the folder is opened
    and checked by ``fstat``, then the file is opened relative to it without following a link.

    ``embed`` reads through this, so a folder swapped for a link between its checks and the
    read cannot make it copy a file from outside the allowed folders. The descriptor is opened
    ``O_NONBLOCK`` (a FIFO does not block); the caller checks it is a regular file.
    """
    path = Path(os.path.abspath(os.fspath(path)))
    try:
        folder = os.path.realpath(path.parent)
    except OSError as err:  # a link on the way was swapped while being resolved
        msg = f"{path.parent} changed while DS Export was opening it"
        raise ForbiddenPath(msg) from err
    if not is_within(folder, allowed_roots):
        msg = f"{path} is outside the folders DS Export may change"
        raise ForbiddenPath(msg)
    try:
        dfd = _open_dir(folder)
    except FileNotFoundError as err:
        msg = f"{path} does not exist"
        raise NotFound(msg) from err
    except OSError as err:
        raise _io_error(err, folder) from err
    flags = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY | getattr(os, "O_NONBLOCK", 0)
    try:
        _check_still_within(dfd, folder, allowed_roots)
        if _HAVE_DIR_FD:
            return os.open(path.name, flags, dir_fd=dfd)
        return os.open(os.path.join(folder, path.name), flags)
    except FileNotFoundError as err:
        msg = f"{path} does not exist"
        raise NotFound(msg) from err
    except OSError as err:
        if err.errno == errno.ELOOP:
            msg = f"{path} is a symbolic link; DS Export only changes regular files"
            raise ForbiddenPath(msg) from err
        msg = f"cannot read {path}: {err.strerror}"
        raise IoError(msg) from err
    finally:
        _close_dir(dfd)


def _check_still_within(dfd: int, folder: str, roots: Sequence[Path]) -> None:
    """Refuse if a folder on the way was swapped for a link between resolving and opening."""
    if dfd < 0:
        return
    try:
        opened, now = os.fstat(dfd), os.stat(folder)
    except OSError as err:
        raise _io_error(err, folder) from err
    if (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino) or not is_within(folder, roots):
        msg = f"{folder} changed while DS Export was opening it; nothing was written"
        raise ForbiddenPath(msg)


def write_atomic(path: Path, parts: Parts, *, mode: int = 0o600) -> None:
    """Create or replace one of DS Export's own files (config, state) atomically.

    Not for user folders: it replaces whatever is at ``path``. The parent folder is created.
    """
    path = Path(os.fspath(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _io_error(err, str(path.parent)) from err
    folder = str(path.parent)
    try:
        dfd = _open_dir(folder)
    except OSError as err:
        raise _io_error(err, folder) from err
    try:
        tmp = _write_temp(dfd, folder, parts, mode=mode)
        try:
            if _HAVE_DIR_FD:
                os.replace(tmp, path.name, src_dir_fd=dfd, dst_dir_fd=dfd)
            else:
                os.replace(os.path.join(folder, tmp), str(path))
        except OSError as err:
            _unlink_quietly(dfd, folder, tmp)
            raise _io_error(err, folder) from err
        _fsync_dir(dfd)
    finally:
        _close_dir(dfd)


def is_within(path: Path | str, roots: Iterable[Path | str]) -> bool:
    """True when ``path`` (links resolved) is one of ``roots`` (links resolved) or inside one."""
    try:
        target = os.path.normcase(os.path.realpath(os.fspath(path)))
    except OSError:
        # realpath lstat()s then readlink()s each link; a link swapped away in between raises.
        # A path that changes while we look at it is not one we can vouch for.
        return False
    for root in roots:
        try:
            base = os.path.normcase(os.path.realpath(os.fspath(root)))
            if os.path.commonpath([target, base]) == base:
                return True
        except (OSError, ValueError):  # ValueError: different drives on Windows
            continue
    return False


def sweep_temp_files(folder: Path, *, max_age_s: float = 3600.0) -> int:
    """Remove temporary files a killed process left in ``folder`` (not below it) that are older
    than ``max_age_s``; younger ones may belong to a save in progress. Returns how many."""
    import time

    removed = 0
    cutoff = time.time() - max_age_s
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def collision_name(filename: str, n: int) -> str:
    """``cat.png`` → ``cat (2).png`` for ``n == 2``; ``n == 1`` is the name itself."""
    if n <= 1:
        return filename
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:
        return f"{filename} ({n})"
    return f"{stem} ({n}).{ext}"


# --- the dir_fd implementation (Linux, macOS, BSD) --------------------------------------------


def sync_folder(folder: str | os.PathLike) -> None:
    """fsync a folder, making the names just created in it durable (see ``write_new``)."""
    if not _HAVE_DIR_FD:
        return  # the platforms without dir_fd (Windows) cannot fsync a folder
    try:
        dfd = _open_dir(os.fspath(folder))
    except OSError:
        return
    try:
        _fsync_dir(dfd)
    finally:
        os.close(dfd)


def _write_new_fd(
    root: Path, folders: list[str], filename: str, parts: Parts, *, sync_folder: bool = True
) -> str:
    dfd, where = _open_folders(root, folders)
    try:
        tmp = _write_temp(dfd, where, parts, mode=0o644)
        try:
            final = _publish(dfd, where, tmp, filename)
        except BaseException:
            _unlink_quietly(dfd, where, tmp)
            raise
        if sync_folder:
            _fsync_dir(dfd)
        return final
    finally:
        os.close(dfd)


def _open_folders(root: Path, folders: list[str]) -> tuple[int, str]:
    """Open ``root``, then each of ``folders`` below it (created if needed, links refused);
    → (the innermost folder's descriptor, its path for messages). The caller closes it."""
    try:
        dfd = _open_dir(str(root))
    except OSError as err:
        raise _io_error(err, str(root), root=True) from err
    where = str(root)
    try:
        for name in folders:
            child = _enter_folder(dfd, name, where)
            os.close(dfd)
            dfd = child
            where = os.path.join(where, name)
    except BaseException:
        os.close(dfd)
        raise
    return dfd, where


def _enter_folder(dfd: int, name: str, where: str) -> int:
    """Open (creating if needed) the folder ``name`` below ``dfd`` without following links."""
    try:
        os.mkdir(name, 0o777, dir_fd=dfd)
    except FileExistsError:
        pass
    except OSError as err:
        raise _io_error(err, os.path.join(where, name)) from err
    else:
        _fsync_dir(dfd)  # a new folder's own entry must survive a crash, or so would not its file
    try:
        return os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=dfd)
    except OSError as err:
        full = os.path.join(where, name)
        if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            try:
                st = os.lstat(name, dir_fd=dfd)
            except OSError:
                st = None
            if st is not None and stat.S_ISLNK(st.st_mode):
                msg = (
                    f"{full} is a symbolic link; DS Export never follows links inside the "
                    "output folder. Replace it with a real folder or change the name template"
                )
                raise ForbiddenPath(msg) from err
            msg = f"{full} exists and is not a folder; rename it or change the name template"
            raise IoError(msg) from err
        raise _io_error(err, full) from err


def _publish(dfd: int, where: str, tmp: str, filename: str) -> str:
    """Give the temporary file its final name without replacing anything; return that name."""
    for n in range(1, MAX_COLLISIONS + 1):
        name = collision_name(filename, n)
        try:
            os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as err:
            if err.errno not in _NO_LINKS:
                raise _io_error(err, os.path.join(where, name)) from err
            return _publish_without_links(dfd, where, tmp, filename, start=n)
        _unlink_quietly(dfd, where, tmp)
        return name
    msg = f"{os.path.join(where, filename)} and {MAX_COLLISIONS} numbered variants all exist"
    raise IoError(msg)


def _publish_without_links(dfd: int, where: str, tmp: str, filename: str, *, start: int) -> str:
    for n in range(start, MAX_COLLISIONS + 1):
        name = collision_name(filename, n)
        try:
            fd = os.open(
                name,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC,
                0o644,
                dir_fd=dfd,
            )
        except FileExistsError:
            continue
        except OSError as err:
            raise _io_error(err, os.path.join(where, name)) from err
        os.close(fd)
        try:
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as err:
            _unlink_quietly(dfd, where, name)
            raise _io_error(err, os.path.join(where, name)) from err
        return name
    msg = f"{os.path.join(where, filename)} and {MAX_COLLISIONS} numbered variants all exist"
    raise IoError(msg)


# --- the path implementation (Windows) --------------------------------------------------------


def _write_new_paths(root: Path, folders: list[str], filename: str, parts: Parts) -> str:
    if not root.is_dir():
        err = FileNotFoundError(errno.ENOENT, "No such file or directory", str(root))
        raise _io_error(err, str(root), root=True)
    where = root
    for name in folders:
        where = where / name
        try:
            where.mkdir()
        except FileExistsError:
            pass
        except OSError as err:
            raise _io_error(err, str(where)) from err
        try:
            is_link = _is_link_or_junction(where)
        except OSError as err:
            raise _io_error(err, str(where)) from err
        if is_link:
            msg = f"{where} is a link; DS Export never follows links inside the output folder"
            raise ForbiddenPath(msg)
        if not where.is_dir():
            msg = f"{where} exists and is not a folder; rename it or change the name template"
            raise IoError(msg)
    folder = str(where)
    tmp = _write_temp(None, folder, parts, mode=0o644)
    tmp_path = os.path.join(folder, tmp)
    try:
        for n in range(1, MAX_COLLISIONS + 1):
            name = collision_name(filename, n)
            try:
                os.link(tmp_path, os.path.join(folder, name))
            except FileExistsError:
                continue
            except OSError as err:
                if err.errno not in _NO_LINKS and not _is_windows_no_link(err):
                    raise _io_error(err, os.path.join(folder, name)) from err
                if _rename_no_replace(tmp_path, os.path.join(folder, name)):
                    return name
                continue
            os.unlink(tmp_path)
            return name
        msg = f"{os.path.join(folder, filename)} and {MAX_COLLISIONS} variants all exist"
        raise IoError(msg)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise


def _rename_no_replace(src: str, dst: str) -> bool:
    """Move ``src`` to ``dst`` unless ``dst`` exists; False if it does."""
    if os.name == "nt":
        # Windows' rename (MoveFileEx without REPLACE_EXISTING) refuses an existing target.
        try:
            os.rename(src, dst)
        except FileExistsError:
            return False
        return True
    # POSIX rename replaces silently: reserve the name with O_EXCL first, then rename onto it.
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o644)
    except FileExistsError:
        return False
    except OSError as err:
        raise _io_error(err, os.path.dirname(dst)) from err
    os.close(fd)
    try:
        os.replace(src, dst)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(dst)
        raise _io_error(err, os.path.dirname(dst)) from err
    return True


def _is_link_or_junction(path: Path) -> bool:
    st = os.lstat(path)
    reparse = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_file_attributes", 0) & reparse)


def _is_windows_no_link(err: OSError) -> bool:
    return getattr(err, "winerror", None) in (1, 50)  # ERROR_INVALID_FUNCTION, NOT_SUPPORTED


# --- shared helpers ---------------------------------------------------------------------------


def _split_relpath(relpath: str) -> tuple[list[str], str]:
    if not isinstance(relpath, str) or not relpath:
        msg = "empty file name"
        raise ForbiddenPath(msg)
    if "\x00" in relpath or "\\" in relpath:
        msg = f"file name {relpath!r} contains a NUL or backslash"
        raise ForbiddenPath(msg)
    if relpath.startswith("/") or (len(relpath) > 1 and relpath[1] == ":"):
        msg = f"file name {relpath!r} must be relative to the output folder"
        raise ForbiddenPath(msg)
    parts = relpath.split("/")
    for part in parts:
        if part in ("", ".", "..") or ":" in part:
            msg = f"file name {relpath!r} has an empty, '.', '..' or ':' component"
            raise ForbiddenPath(msg)
        if part.startswith(TEMP_PREFIX):
            msg = f"file name {relpath!r} uses DS Export's temporary-file prefix"
            raise ForbiddenPath(msg)
    return parts[:-1], parts[-1]


def _open_dir(folder: str) -> int:
    if not _HAVE_DIR_FD:
        if not os.path.isdir(folder):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", folder)
        return -1
    return os.open(folder, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)


def _close_dir(dfd: int) -> None:
    if dfd >= 0:
        os.close(dfd)


def _write_temp(dfd: int | None, folder: str, parts: Parts, *, mode: int) -> str:
    """Create a fresh temporary file in the folder, write and fsync ``parts``; return its name."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
    use_fd = dfd is not None and dfd >= 0
    while True:
        name = _temp_name()
        try:
            if use_fd:
                fd = os.open(name, flags, mode, dir_fd=dfd)
            else:
                fd = os.open(os.path.join(folder, name), flags, mode)
            break
        except FileExistsError:
            continue
        except OSError as err:
            raise _io_error(err, folder) from err
    try:
        try:
            for part in parts:
                view = memoryview(part).cast("B")
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            if mode != 0o644 and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)  # replace_file keeps the old mode exactly, umask or not
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as err:
        _unlink_quietly(dfd, folder, name)
        if isinstance(err, OSError):
            raise _io_error(err, folder) from err
        raise
    return name


def _unlink_quietly(dfd: int | None, folder: str, name: str) -> None:
    with contextlib.suppress(OSError):
        if dfd is not None and dfd >= 0:
            os.unlink(name, dir_fd=dfd)
        else:
            os.unlink(os.path.join(folder, name))


def _fsync_dir(dfd: int) -> None:
    # Makes the new directory entry durable; some file systems refuse fsync on a folder.
    if dfd >= 0:
        with contextlib.suppress(OSError):
            os.fsync(dfd)


def _io_error(err: OSError, where: str, *, root: bool = False) -> IoError:
    """Turn an OSError into an ``IoError`` whose message says what to do."""
    code = err.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        text = f"disk full: could not write in {where}; free some space and try again"
    elif code == errno.EFBIG:
        text = f"disk full or file too large for this disk or limit, writing in {where}"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        text = f"output folder is not writable: {where}; check its permissions or choose another"
    elif code == errno.ENOENT and root:
        text = f"output folder does not exist: {where}; create it or choose another"
    elif code == errno.ENOENT:
        text = f"a folder disappeared while saving in {where}; try again"
    elif code == errno.ENAMETOOLONG:
        text = f"file name too long for the file system in {where}; shorten the name template"
    elif code == errno.ENOTDIR:
        text = f"{where} is not a folder"
    else:
        text = f"could not write in {where}: {err.strerror or err}"
    return IoError(text)


# --- whole folders ------------------------------------------------------------------------------

Tree = Iterable[tuple[str, Parts]]
"""``(relative '/'-separated name, parts)`` for each file of a folder, e.g.
``[("conversation.html", [b"<!DOCTYPE html>…"]), ("images/cat.png", [data])]``."""


def write_new_tree(root: Path, relpath: str, files: Tree) -> Path:
    """Write a new folder at ``root/relpath`` holding ``files``; return the path actually used.

    The folder appears whole or not at all: it is filled under a temporary name in its parent
    (``.dsexport-….tmp``), fsynced, and only then given its name. It never replaces anything:
    the name is reserved by creating an empty folder (which fails if the name exists), and the
    full one is renamed onto that reservation (POSIX rename may replace an empty folder, and
    only that); a taken name gets ``name (2)``, ``name (3)``…. Between the two steps an empty
    folder is visible under the final name. As ``write_new``, links below ``root`` are refused.
    """
    root = Path(os.fspath(root))
    folders, name = _split_relpath(relpath)
    if not _HAVE_DIR_FD:
        return _write_new_tree_paths(root, folders, name, files)
    dfd, where = _open_folders(root, folders)
    try:
        tmp = _make_temp_dir(dfd, where)
        try:
            _fill_tree(dfd, where, tmp, files)
            final = _publish_dir(dfd, where, tmp, name)
        except BaseException:
            _remove_tree(dfd, tmp)
            raise
        _fsync_dir(dfd)
        return root.joinpath(*folders, final)
    finally:
        os.close(dfd)


def _make_temp_dir(dfd: int, where: str) -> str:
    while True:
        name = _temp_name()
        try:
            os.mkdir(name, 0o755, dir_fd=dfd)
            return name
        except FileExistsError:
            continue
        except OSError as err:
            raise _io_error(err, where) from err


def _fill_tree(dfd: int, where: str, tmp: str, files: Tree) -> None:
    top = os.open(tmp, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=dfd)
    opened: dict[str, int] = {"": top}
    try:
        for relname, parts in files:
            sub, leaf = _split_relpath(relname)
            key = ""
            for folder in sub:
                parent = opened[key]
                key = f"{key}/{folder}" if key else folder
                if key not in opened:
                    opened[key] = _enter_folder(parent, folder, os.path.join(where, tmp, key))
            target = opened[key]
            inner = os.path.join(where, tmp, key)
            temp = _write_temp(target, inner, parts, mode=0o644)
            try:
                # Our own fresh folder: a second file of the same name is a caller's bug.
                os.link(temp, leaf, src_dir_fd=target, dst_dir_fd=target, follow_symlinks=False)
            except OSError as err:
                raise _io_error(err, os.path.join(inner, leaf)) from err
            finally:
                _unlink_quietly(target, inner, temp)
        for fd in opened.values():
            _fsync_dir(fd)
    finally:
        for fd in opened.values():
            os.close(fd)


def _publish_dir(dfd: int, where: str, tmp: str, name: str) -> str:
    for n in range(1, MAX_COLLISIONS + 1):
        candidate = name if n == 1 else f"{name} ({n})"
        try:
            os.mkdir(candidate, 0o755, dir_fd=dfd)
        except FileExistsError:
            continue
        except OSError as err:
            raise _io_error(err, os.path.join(where, candidate)) from err
        try:
            os.rename(tmp, candidate, src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
                continue  # someone filled our reservation meanwhile; it is theirs now
            with contextlib.suppress(OSError):
                os.rmdir(candidate, dir_fd=dfd)
            raise _io_error(err, os.path.join(where, candidate)) from err
        return candidate
    msg = f"{os.path.join(where, name)} and {MAX_COLLISIONS} numbered variants all exist"
    raise IoError(msg)


def _remove_tree(dfd: int, name: str) -> None:
    """Delete our temporary folder without following links inside it."""
    with contextlib.suppress(OSError):
        fd = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=dfd)
        try:
            for entry in os.scandir(fd):
                if entry.is_dir(follow_symlinks=False):
                    _remove_tree(fd, entry.name)
                else:
                    _unlink_quietly(fd, "", entry.name)
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=dfd)


def _write_new_tree_paths(root: Path, folders: list[str], name: str, files: Tree) -> Path:
    """Windows: build the folder under a temporary name, then rename (which never replaces)."""
    import shutil

    if not root.is_dir():
        err = FileNotFoundError(errno.ENOENT, "No such file or directory", str(root))
        raise _io_error(err, str(root), root=True)
    parent = root.joinpath(*folders)
    for i in range(len(folders)):
        _write_new_paths_folder(root.joinpath(*folders[: i + 1]))
    tmp = parent / _temp_name()
    try:
        tmp.mkdir()
        for relname, parts in files:
            sub, leaf = _split_relpath(relname)
            folder = tmp.joinpath(*sub)
            folder.mkdir(parents=True, exist_ok=True)
            temp = _write_temp(None, str(folder), parts, mode=0o644)
            os.replace(folder / temp, folder / leaf)
        for n in range(1, MAX_COLLISIONS + 1):
            candidate = name if n == 1 else f"{name} ({n})"
            if _rename_no_replace_dir(str(tmp), str(parent / candidate)):
                return parent / candidate
        msg = f"{parent / name} and {MAX_COLLISIONS} numbered variants all exist"
        raise IoError(msg)
    except OSError as err:
        raise _io_error(err, str(parent)) from err
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _write_new_paths_folder(where: Path) -> None:
    with contextlib.suppress(FileExistsError):
        where.mkdir()
    if _is_link_or_junction(where):
        msg = f"{where} is a link; DS Export never follows links inside the output folder"
        raise ForbiddenPath(msg)


def _rename_no_replace_dir(src: str, dst: str) -> bool:
    try:
        os.rename(src, dst)  # Windows refuses an existing target
    except (FileExistsError, PermissionError):
        return False
    return True
