"""Chunked transfers: images too large for one message arrive as ``transfer_begin`` →
``transfer_chunk``… → ``transfer_commit`` and are assembled in a temp file, in constant memory.

Files live in ``<cache_dir>/transfers`` as ``<pid>-<transfer_id>.part`` (mode 0600). Several hosts
may run at once (one per browser window or per one-shot message), so a host only sweeps files that
are old (``ABANDONED_AFTER_SECONDS``) or whose process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time

from dsexport.errors import BadRequest, IoError, NotFound, TooLarge

TYPE_CHECKING = False  # neither typing nor pathlib: every host start sweeps this folder
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

MAX_IMAGE_BYTES = 256 * 1024 * 1024
"""Largest image a transfer may announce; guards the temp folder against a disk-filling sender."""

CHUNK_BYTES = 4 * 1024 * 1024
"""Raw bytes per chunk that clients should send (about 5.3 MiB of base64 per message)."""

MAX_CHUNK_BYTES = 8 * 1024 * 1024
"""Largest raw chunk accepted (the frame cap bounds it too)."""

MAX_OPEN_TRANSFERS = 4
"""Open transfers per host process; with ``MAX_IMAGE_BYTES`` this bounds temp-disk use."""

ABANDONED_AFTER_SECONDS = 10 * 60
"""A transfer untouched this long is deleted (by this host, or by the next one to start)."""

_ID = r"[0-9a-f]{32}"
_PART = r"(\d+)-([0-9a-f]{32})\.part"
_SHA256 = r"[0-9a-fA-F]{64}"


def transfers_dir() -> str:
    from dsexport import paths

    return os.path.join(paths.cache_dir_str(), "transfers")


def _process_exists(pid: int) -> bool:
    if sys.platform == "win32":
        # os.kill(pid, 0) on Windows sends CTRL_C_EVENT; there, age alone decides.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else
    return True


def sweep(folder: str | Path, *, now: float | None = None) -> int:
    """Delete abandoned ``.part`` files in ``folder``; return how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = re.fullmatch(_PART, entry.name)
        if not match:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            pid = int(match.group(1))
            if pid == os.getpid():
                continue
            if age > ABANDONED_AFTER_SECONDS or not _process_exists(pid):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _exit_on_sigterm() -> None:
    import signal

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, terminate)


class Transfer:
    """One transfer in progress: its temp file, announced size and running SHA-256."""

    __slots__ = ("expected_sha256", "fd", "hasher", "id", "path", "received", "size", "touched")

    def __init__(self, tid: str, size: int, path: Path, fd: int, expected_sha256: str | None):
        import hashlib

        self.id = tid
        self.size = size
        self.path = path
        self.fd = fd
        self.expected_sha256 = expected_sha256
        self.received = 0
        self.touched = time.monotonic()
        self.hasher: Any = hashlib.sha256()

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class Transfers:
    """The open transfers of one host process."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self._folder = folder
        self._open: dict[str, Transfer] = {}
        self.exit_on_sigterm = False
        """Set by the host process: on SIGTERM (the browser closing the port), unwind so the
        temp files are removed. Installed at the first transfer, not at start-up: ``import
        signal`` costs a millisecond that ``ping`` should not pay."""

    @property
    def folder(self) -> str | Path:
        if self._folder is None:
            self._folder = transfers_dir()
        return self._folder

    def sweep(self) -> int:
        """Delete abandoned files on disk and expire idle transfers of this process."""
        cutoff = time.monotonic() - ABANDONED_AFTER_SECONDS
        for tid in [t.id for t in self._open.values() if t.touched < cutoff]:
            self._open.pop(tid).discard()
        return sweep(self.folder)

    def begin(self, size: int, sha256: str | None = None) -> Transfer:
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            msg = "'size' must be a positive integer (the image's byte count)"
            raise BadRequest(msg)
        if size > MAX_IMAGE_BYTES:
            msg = f"image is {size} bytes; the limit is {MAX_IMAGE_BYTES} bytes"
            raise TooLarge(msg)
        if sha256 is not None and (
            not isinstance(sha256, str) or not re.fullmatch(_SHA256, sha256)
        ):
            msg = "'sha256' must be 64 hexadecimal digits"
            raise BadRequest(msg)
        self.sweep()
        if self.exit_on_sigterm:
            _exit_on_sigterm()
        if len(self._open) >= MAX_OPEN_TRANSFERS:
            msg = (
                f"{MAX_OPEN_TRANSFERS} transfers are already open; "
                "commit or abort one before starting another"
            )
            raise TooLarge(msg)
        import secrets
        from pathlib import Path

        tid = secrets.token_hex(16)
        path = Path(self.folder, f"{os.getpid()}-{tid}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd = os.open(path, flags, 0o600)
        except OSError as err:
            msg = f"cannot create a temporary file in {self.folder}: {err.strerror}"
            raise IoError(msg) from err
        transfer = Transfer(tid, size, path, fd, sha256.lower() if sha256 else None)
        self._open[tid] = transfer
        return transfer

    def get(self, tid: object) -> Transfer:
        if not isinstance(tid, str) or not re.fullmatch(_ID, tid):
            msg = "'transfer_id' must be the id returned by transfer_begin"
            raise BadRequest(msg)
        transfer = self._open.get(tid)
        if transfer is None:
            msg = f"no open transfer {tid} (it was committed, aborted or expired); start again"
            raise NotFound(msg)
        return transfer

    def chunk(self, tid: object, offset: object, data: bytes) -> Transfer:
        """Append ``data`` at ``offset``; chunks must arrive in order, without gaps."""
        transfer = self.get(tid)
        if isinstance(offset, bool) or not isinstance(offset, int):
            msg = "'offset' must be an integer"
            raise BadRequest(msg)
        if offset != transfer.received:
            msg = f"chunk at offset {offset}, expected offset {transfer.received}"
            raise BadRequest(msg)
        if len(data) > MAX_CHUNK_BYTES:
            msg = f"chunk is {len(data)} bytes; the limit is {MAX_CHUNK_BYTES}"
            raise TooLarge(msg)
        if transfer.received + len(data) > transfer.size:
            msg = f"chunk would pass the announced size of {transfer.size} bytes"
            raise TooLarge(msg)
        view = memoryview(data)
        try:
            while view:
                written = os.write(transfer.fd, view)
                view = view[written:]
        except OSError as err:
            self.abort(transfer.id)
            msg = f"cannot write the temporary file: {err.strerror}; the transfer was aborted"
            raise IoError(msg) from err
        transfer.hasher.update(data)
        transfer.received += len(data)
        transfer.touched = time.monotonic()
        return transfer

    def finish(self, tid: object) -> Transfer:
        """Check the transfer is complete and intact, close it and hand it over; the caller
        must ``discard()`` it after use. Incomplete transfers stay open."""
        transfer = self.get(tid)
        if transfer.received != transfer.size:
            msg = f"received {transfer.received} of {transfer.size} bytes; send the rest first"
            raise BadRequest(msg)
        del self._open[transfer.id]
        transfer.close()
        if transfer.expected_sha256 and transfer.hasher.hexdigest() != transfer.expected_sha256:
            transfer.discard()
            msg = "the received bytes do not match 'sha256'; the transfer was discarded"
            raise BadRequest(msg)
        return transfer

    def abort(self, tid: object) -> None:
        self._open.pop(self.get(tid).id).discard()

    def close_all(self) -> None:
        while self._open:
            self._open.popitem()[1].discard()

    def __len__(self) -> int:
        return len(self._open)
