"""One function per request type; ``HANDLERS`` at the bottom maps ``type`` → function.

A handler takes the validated ``Request`` and the connection's ``Session`` and returns the
``result`` dict, or raises a ``DsError`` (which the server turns into an error reply). Handlers
never touch stdin or stdout, and import the save engine only when they need it: ``ping`` must
stay as cheap as a bare interpreter start.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dsexport.errors import BadRequest, ForbiddenPath, IoError, NotFound, TooLarge
from dsexport.native import framing, transfer

MAX_PATH_CHARS = 4096
MAX_TEMPLATE_CHARS = 1024
MAX_CONFIG_BYTES = 64 * 1024
"""``config_set`` values larger than this (as JSON) are refused before validation."""


class Request:
    """One validated message, e.g. ``Request(7, "ping", {"type": "ping", "id": 7})``."""

    __slots__ = ("fields", "id", "type")

    def __init__(self, id: str | int, type: str, fields: Mapping[str, Any]) -> None:
        self.id = id
        self.type = type
        self.fields = fields


Opener = Callable[[list[list[str]]], str]


class Session:
    """State that lives as long as one host process (one connection).

    ``opener`` runs the file-manager commands of ``reveal``; tests inject a recorder.
    """

    def __init__(
        self,
        caller: str = "",
        transfers: transfer.Transfers | None = None,
        opener: Opener | None = None,
    ) -> None:
        self.caller = caller
        self.transfers = transfers if transfers is not None else transfer.Transfers()
        self.opener = opener
        self._held = contextlib.ExitStack()
        self._holding = False

    def hold_catalog(self) -> None:
        """Keep one catalog connection for this connection's saves (``pipeline.held_catalog``):
        a batch then costs one catalog open and close instead of one per image."""
        if not self._holding:
            from dsexport.pipeline import held_catalog

            self._held.enter_context(held_catalog())
            self._holding = True

    def close(self) -> None:
        self.transfers.close_all()
        self._held.close()


# ---------------------------------------------------------------------------------------------
# Field helpers


def _get(req: Request, name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
    value = req.fields.get(name)
    if value is None:
        if required:
            msg = f"'{req.type}' needs the field '{name}'"
            raise BadRequest(msg)
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        msg = f"field '{name}' must be {_JSON_NAMES.get(names, names)}"
        raise BadRequest(msg)
    return value


_JSON_NAMES = {"str": "a string", "int": "an integer", "dict": "an object", "list": "a list"}


_BASE64 = r"[A-Za-z0-9+/]*={0,2}"


def _base64(text: str, what: str) -> bytes:
    """Strict, padded base64 (what ``btoa`` and ``FileReader`` produce); a ``data:…;base64,``
    prefix is tolerated (``FileReader.readAsDataURL``).

    Checked with one regex and decoded straight from the ``str`` (``binascii`` reads ASCII text
    in place): ``base64.b64decode`` would first copy a 5.6 MB chunk to bytes.
    """
    import binascii
    import re

    if text.startswith("data:"):
        head, sep, text = text.partition(",")
        if not sep or not head.endswith(";base64"):
            msg = f"'{what}' is a data URL without base64 data"
            raise BadRequest(msg)
    if len(text) % 4 or not re.fullmatch(_BASE64, text):
        msg = f"'{what}' is not valid base64 (standard alphabet, padded to a multiple of 4)"
        raise BadRequest(msg)
    return binascii.a2b_base64(text)


def _metadata(req: Request, name: str = "metadata"):
    from dsexport.validate import metadata_from_dict

    return metadata_from_dict(_get(req, name, dict, required=False))


def _options(req: Request):
    from dsexport.validate import options_from_dict

    raw = _get(req, "options", dict, required=False)
    if raw and raw.get("output_dir") is not None:
        # The destination is the user's choice (config), never a per-message value that page
        # content could influence.
        msg = "option 'output_dir' cannot be sent by the extension; set it with config_set"
        raise BadRequest(msg)
    return options_from_dict(raw)


def _config():
    from dsexport.config import load_config

    return load_config()


def _output_dir(cfg) -> Path:
    from dsexport import paths

    value = getattr(cfg, "output_dir", None)
    return Path(value).expanduser() if value else paths.default_output_dir()


def _abs_path(req: Request, name: str = "path") -> Path:
    text = _get(req, name, str)
    if not text or len(text) > MAX_PATH_CHARS or "\x00" in text:
        msg = f"field '{name}' must be a file path of 1 to {MAX_PATH_CHARS} characters"
        raise BadRequest(msg)
    path = Path(text)
    if not path.is_absolute():
        msg = f"field '{name}' must be an absolute path"
        raise ForbiddenPath(msg)
    return path


def _is_within(path: Path, roots: list[Path]) -> bool:
    # storage's check: a link swapped away while realpath resolves it is a refusal, not an
    # internal error (realpath lstat()s, then readlink()s, and the second call can fail).
    from dsexport.storage import is_within

    return is_within(path, roots)


def _result(value) -> dict[str, Any]:
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


# ---------------------------------------------------------------------------------------------
# Handlers


def ping(req: Request, session: Session) -> dict[str, Any]:
    """Version, capabilities, limits and the current config (or why it could not be read)."""
    from dsexport import __version__
    from dsexport.errors import DsError
    from dsexport.native import capabilities

    reply: dict[str, Any] = {
        "version": __version__,
        "protocol": 1,
        "capabilities": capabilities.capabilities(),
        "limits": {
            "max_frame_bytes": framing.MAX_FRAME_BYTES,
            "max_reply_bytes": framing.MAX_REPLY_BYTES,
            "max_image_bytes": transfer.MAX_IMAGE_BYTES,
            "chunk_bytes": transfer.CHUNK_BYTES,
            "max_chunk_bytes": transfer.MAX_CHUNK_BYTES,
            "max_open_transfers": transfer.MAX_OPEN_TRANSFERS,
        },
    }
    try:
        reply["config"] = capabilities.effective_config()
    except DsError as err:
        # A broken config file must not make the extension think the host is missing.
        reply["config"] = None
        reply["config_error"] = {"code": err.code, "message": framing.shorten(str(err))}
    return reply


def save(req: Request, session: Session) -> dict[str, Any]:
    """Save one image sent whole: ``{"image": {"data": <base64>, "url"?, "mime"?}, ...}``."""
    from dsexport.pipeline import save_image

    image = _get(req, "image", dict)
    data_text = image.get("data")
    if not isinstance(data_text, str) or not data_text:
        msg = "'image.data' must be the image bytes as a non-empty base64 string"
        raise BadRequest(msg)
    url = image.get("url")
    if url is not None and not isinstance(url, str):
        msg = "'image.url' must be a string"
        raise BadRequest(msg)
    meta = _metadata(req)
    options = _options(req)
    data = _base64(data_text, "image.data")
    del data_text
    if not data:
        msg = "'image.data' is empty"
        raise BadRequest(msg)
    if url and not meta.image_url and not url.startswith(("data:", "blob:")):
        from dsexport.validate import MAX_FIELD_CHARS

        meta = meta.replace(image_url=url[:MAX_FIELD_CHARS])
    session.hold_catalog()
    return _result(save_image(data, meta, options, config=_config()))


def transfer_begin(req: Request, session: Session) -> dict[str, Any]:
    """Open a chunked transfer: ``{"size": 41943040, "sha256"?: "<hex>"}`` → ``transfer_id``."""
    size = _get(req, "size", int)
    sha256 = _get(req, "sha256", str, required=False)
    started = session.transfers.begin(size, sha256)
    return {"transfer_id": started.id, "chunk_bytes": transfer.CHUNK_BYTES}


def transfer_chunk(req: Request, session: Session) -> dict[str, Any]:
    """Append ``data`` (base64) at ``offset``; chunks in order, no gaps or overlaps."""
    tid = _get(req, "transfer_id", str)
    offset = _get(req, "offset", int)
    data = _base64(_get(req, "data", str), "data")
    if not data:
        msg = "'data' is empty"
        raise BadRequest(msg)
    updated = session.transfers.chunk(tid, offset, data)
    return {"received": updated.received}


def transfer_commit(req: Request, session: Session) -> dict[str, Any]:
    """Save the assembled image, like ``save``; the transfer ends whatever the outcome, except
    when it is incomplete or the metadata/options are invalid (fix and commit again)."""
    from dsexport.pipeline import save_image

    tid = _get(req, "transfer_id", str)
    session.transfers.get(tid)
    meta = _metadata(req)
    options = _options(req)
    finished = session.transfers.finish(tid)
    session.hold_catalog()
    try:
        return _result(save_image(finished.path, meta, options, config=_config()))
    finally:
        finished.discard()


def transfer_abort(req: Request, session: Session) -> dict[str, Any]:
    session.transfers.abort(_get(req, "transfer_id", str))
    return {}


def embed(req: Request, session: Session) -> dict[str, Any]:
    """Insert metadata into a file the browser downloaded, in place and losslessly."""
    from dsexport.pipeline import embed_file

    path = _abs_path(req)
    meta = _metadata(req)
    cfg = _config()
    roots = _download_roots(cfg)
    if not _is_within(path, roots):
        msg = (
            f"{path} is outside the download and output folders; add its folder to "
            "'download_dirs' in the options to allow it"
        )
        raise ForbiddenPath(msg)
    return _result(embed_file(path, meta, allowed_roots=roots, config=cfg))


def _download_roots(cfg) -> list[Path]:
    """Where ``embed`` and ``save_download`` may touch files: the output folder, the OS download
    folder and the config's ``download_dirs``."""
    from dsexport import paths

    roots = [_output_dir(cfg), paths.default_download_dir()]
    roots += [Path(d).expanduser() for d in (getattr(cfg, "download_dirs", None) or ())]
    return roots


STAGING_FOLDER = "dsexport-staging"
"""The subfolder of the browser's download folder the extension downloads images into."""

STAGED_NAME = r"dsx-[0-9a-f]{32}(?:\.[A-Za-z0-9]{1,16})?"
"""A staged file's name: 32 random hex digits; Chrome may append an extension from the MIME type."""


def save_download(req: Request, session: Session) -> dict[str, Any]:
    """Save an image the extension downloaded into the staging folder, exactly as ``save``
    would, then delete the staged file (whatever the outcome, once it is known to be ours)."""
    import re

    path = _abs_path(req)
    cleanup = _get(req, "cleanup", bool, required=False)
    url = _get(req, "url", str, required=False)
    if path.parent.name != STAGING_FOLDER or not re.fullmatch(STAGED_NAME, path.name):
        msg = (
            f"{path} is not a DS Export staging download (…/{STAGING_FOLDER}/dsx-<32 hex "
            "digits>); only those may be saved and deleted this way"
        )
        raise ForbiddenPath(msg)
    from dsexport import storage

    cfg = _config()
    roots = _download_roots(cfg)
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
    session.hold_catalog()
    with _StagedFile(folder, path.name, roots) as staged:
        try:
            meta = _metadata(req)
            options = _options(req)
            if url and not meta.image_url and url.startswith(("https:", "http:")):
                from dsexport.validate import MAX_FIELD_CHARS

                meta = meta.replace(image_url=url[:MAX_FIELD_CHARS])
            result = _result(staged.save(meta, options, cfg))
        finally:
            removed = staged.remove(cleanup=bool(cleanup))
    result["removed"] = removed
    return result


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
        import mmap

        from dsexport.errors import UnsupportedFormat
        from dsexport.pipeline import save_image

        if self.size == 0:
            msg = "the staged download is empty (the server sent no bytes)"
            raise UnsupportedFormat(msg)
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


def config_get(req: Request, session: Session) -> dict[str, Any]:
    """The current config and the defaults."""
    from dsexport import config

    return {"config": config.load_config().to_dict(), "defaults": _defaults(config)}


def _defaults(config_module) -> dict[str, Any]:
    defaults = getattr(config_module, "defaults", None)
    if callable(defaults):
        return defaults().to_dict()
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config_module.DEFAULTS.items()}


def config_set(req: Request, session: Session) -> dict[str, Any]:
    """Validate and store ``values``; nothing is written if any value is bad."""
    import json

    from dsexport.config import set_values

    values = _get(req, "values", dict)
    if len(json.dumps(values, ensure_ascii=False)) > MAX_CONFIG_BYTES:
        msg = f"config values are larger than {MAX_CONFIG_BYTES} bytes"
        raise BadRequest(msg)
    return {"config": set_values(values).to_dict()}


def preview_name(req: Request, session: Session) -> dict[str, Any]:
    """The relative name a save would get, e.g. ``2026-11-25/20261125-091403_a-cat_1a2b.png``."""
    from dsexport.pipeline import preview_name as render

    template = _get(req, "template", str, required=False)
    if template is not None and len(template) > MAX_TEMPLATE_CHARS:
        msg = f"'template' is longer than {MAX_TEMPLATE_CHARS} characters"
        raise BadRequest(msg)
    return {"name": render(_metadata(req), template=template or None, config=_config())}


def reveal(req: Request, session: Session) -> dict[str, Any]:
    """Show a saved file in the OS file manager; only inside the output folder."""
    path = _abs_path(req)
    root = _output_dir(_config())
    if not _is_within(path, [root]):
        msg = f"{path} is not inside the output folder {root}"
        raise ForbiddenPath(msg)
    if not path.exists():
        msg = f"{path} does not exist (it may have been moved or deleted)"
        raise NotFound(msg)
    opener = session.opener or run_commands
    opener(reveal_commands(Path(os.path.realpath(path))))
    return {}


# ---------------------------------------------------------------------------------------------
# reveal: argv lists only, never a shell


def reveal_commands(
    path: Path,
    *,
    platform: str = sys.platform,
    which: Callable[[str], str | None] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> list[list[str]]:
    """Commands to try in order; the last one is the fallback that is not waited for.

    Linux: the freedesktop FileManager1 ``ShowItems`` call selects the file (Nautilus, Dolphin,
    Nemo, Thunar …); without a session bus, ``xdg-open`` opens the folder.
    """
    import shutil

    which = which or shutil.which
    if platform == "darwin":
        return [["open", "-R", str(path)]]
    if platform == "win32":
        # Separate arguments: list2cmdline then writes `/select, "C:\a b\c.png"`, which
        # explorer parses; one quoted `"/select,C:\a b\c.png"` it does not always.
        return [["explorer", "/select,", str(path)]]
    folder = path if path.is_dir() else path.parent
    commands = []
    if environ.get("DBUS_SESSION_BUS_ADDRESS") and which("dbus-send"):
        commands.append(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.FileManager1",
                "--type=method_call",
                "/org/freedesktop/FileManager1",
                "org.freedesktop.FileManager1.ShowItems",
                # as_uri() percent-encodes ',' which dbus-send would take as an item separator.
                f"array:string:{path.as_uri()}",
                "string:",
            ]
        )
    commands.append(["xdg-open", str(folder)])
    return commands


def run_commands(commands: list[list[str]]) -> str:
    """Run all but the last command until one succeeds; otherwise start the last, detached.

    stdin/stdout are never inherited: stdout carries our frames.
    """
    import subprocess

    quiet: dict[str, Any] = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "close_fds": True,
    }
    for argv in commands[:-1]:
        try:
            if subprocess.run(argv, timeout=5, check=False, **quiet).returncode == 0:
                return argv[0]
        except (OSError, subprocess.TimeoutExpired):
            continue
    argv = commands[-1]
    if sys.platform != "win32":
        quiet["start_new_session"] = True
    try:
        subprocess.Popen(argv, **quiet)
    except OSError as err:
        msg = f"cannot open the file manager ({argv[0]}: {err.strerror})"
        raise IoError(msg) from err
    return argv[0]


# ---------------------------------------------------------------------------------------------
# bundle: a ZIP of catalogued images (the popup's "Save as ZIP")

MAX_BUNDLE_NAME_CHARS = 255


def _text_list(req: Request, name: str, *, limit: int, what: str) -> list[str]:
    values = _get(req, name, list, required=False) or []
    if len(values) > limit:
        msg = f"field '{name}' may list at most {limit} {what}"
        raise TooLarge(msg)
    for value in values:
        if not isinstance(value, str) or not value or len(value) > MAX_PATH_CHARS:
            msg = f"field '{name}' must be a list of {what}"
            raise BadRequest(msg)
        _check_text(value, name)
    return values


def _check_text(value: str, name: str) -> None:
    # JSON may carry lone surrogates ("\ud800"), which no file name or sqlite text can hold.
    if "\x00" in value:
        msg = f"field '{name}' contains a NUL character"
        raise BadRequest(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"field '{name}' is not valid Unicode text"
        raise BadRequest(msg) from None


def bundle(req: Request, session: Session) -> dict[str, Any]:
    """ZIP catalogued images with their prompts into the output folder: the files named by
    ``paths`` / ``sha256s`` / ``ids`` (e.g. the ones just saved), or every image of
    ``conversation_id`` → ``{"path", "count", "bytes", "skipped"}``."""
    import re
    import sqlite3

    from dsexport.catalog import open_catalog
    from dsexport.catalog.bundle import MAX_SELECTION, bundle_to_output_folder, select_entries

    paths = _text_list(req, "paths", limit=MAX_SELECTION, what="absolute file paths")
    sha256s = _text_list(req, "sha256s", limit=MAX_SELECTION, what="hex SHA-256 strings")
    if any(not re.fullmatch(r"[0-9a-fA-F]{64}", s) for s in sha256s):
        msg = "field 'sha256s' must hold 64-character hex SHA-256 strings"
        raise BadRequest(msg)
    ids = _get(req, "ids", list, required=False) or []
    if len(ids) > MAX_SELECTION:
        msg = f"field 'ids' may list at most {MAX_SELECTION} catalog ids"
        raise TooLarge(msg)
    if any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i < 2**63 for i in ids):
        msg = "field 'ids' must be a list of positive integers"
        raise BadRequest(msg)
    if any(not os.path.isabs(p) for p in paths):
        msg = "field 'paths' must hold absolute paths"
        raise BadRequest(msg)
    conversation = _get(req, "conversation_id", str, required=False)
    if conversation is not None:
        if not conversation or len(conversation) > MAX_PATH_CHARS:
            msg = f"field 'conversation_id' must be 1 to {MAX_PATH_CHARS} characters"
            raise BadRequest(msg)
        _check_text(conversation, "conversation_id")
    output = _get(req, "output", str, required=False)
    if output is not None:
        if not output or len(output) > MAX_BUNDLE_NAME_CHARS:
            msg = f"field 'output' must be a file name of 1 to {MAX_BUNDLE_NAME_CHARS} characters"
            raise BadRequest(msg)
        _check_text(output, "output")
    try:
        with open_catalog() as catalog:
            entries = select_entries(
                catalog,
                ids=[int(i) for i in ids],
                sha256s=[s.lower() for s in sha256s],
                paths=[str(Path(p)) for p in paths],
                conversation_id=conversation,
            )
    except sqlite3.Error as err:
        msg = f"the catalog cannot be read ({err}); run 'dsexport reindex' to rebuild it"
        raise IoError(msg) from err
    result = bundle_to_output_folder(entries, output, config=_config())
    return {
        "path": result.path,
        "count": result.count,
        "bytes": result.bytes,
        "skipped": len(result.skipped),
    }


HANDLERS: dict[str, Callable[[Request, Session], dict[str, Any]]] = {
    "ping": ping,
    "save": save,
    "transfer_begin": transfer_begin,
    "transfer_chunk": transfer_chunk,
    "transfer_commit": transfer_commit,
    "transfer_abort": transfer_abort,
    "embed": embed,
    "save_download": save_download,
    "config_get": config_get,
    "config_set": config_set,
    "preview_name": preview_name,
    "reveal": reveal,
    "bundle": bundle,
}
"""Request type → handler; docs/protocol.md documents exactly these (test_docs_protocol.py)."""
