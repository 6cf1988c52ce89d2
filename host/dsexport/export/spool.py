"""Exports in progress: the turns a host has received, kept on disk until the archive is written.

A long conversation does not fit one native message (the host reads at most 16 MiB a frame), so
the extension sends it in parts (``export_begin``, ``export_turns``…, ``export_commit``). Each
part's turns are checked and appended as JSON lines to ``<cache_dir>/exports/<pid>-<id>.jsonl``
(mode 0600); the writer reads that file back once per archive member, so memory holds one turn at
a time. A host only sweeps spool files that are old or whose process is gone, as for transfers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from dsexport.errors import BadRequest, IoError, NotFound, TooLarge
from dsexport.export.model import (
    MAX_TURNS,
    Conversation,
    ExportOptions,
    FileRef,
    ImageRef,
    Source,
    Turn,
)

MAX_SPOOL_BYTES = 1024 * 1024 * 1024
"""Text of one export kept on disk; guards the cache folder against a disk-filling sender."""

MAX_OPEN_EXPORTS = 2
"""Exports open at once in one host process."""

ABANDONED_AFTER_SECONDS = 60 * 60
_SUFFIX = ".jsonl"


def exports_dir() -> Path:
    from dsexport import paths

    return paths.cache_dir() / "exports"


@dataclasses.dataclass
class Export:
    id: str
    conversation: Conversation
    options: ExportOptions
    path: Path
    turns: int = 0
    bytes: int = 0

    def add(self, turns: list[Turn]) -> None:
        if self.turns + len(turns) > MAX_TURNS:
            msg = f"a conversation may have at most {MAX_TURNS} turns"
            raise TooLarge(msg)
        lines = [json.dumps(dataclasses.asdict(t), ensure_ascii=False) + "\n" for t in turns]
        data = "".join(lines).encode("utf-8")
        if self.bytes + len(data) > MAX_SPOOL_BYTES:
            msg = f"the conversation is larger than {MAX_SPOOL_BYTES} bytes of text"
            raise TooLarge(msg)
        try:
            with open(self.path, "ab") as fh:
                fh.write(data)
        except OSError as err:
            msg = f"cannot keep the conversation in {self.path.parent}: {err.strerror}"
            raise IoError(msg) from err
        self.turns += len(turns)
        self.bytes += len(data)

    def iter_turns(self) -> Iterator[Turn]:
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield _turn(json.loads(line))

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _turn(record: dict) -> Turn:
    """A spooled turn back into the model (it was checked on the way in; this is our own file)."""
    record["sources"] = tuple(Source(**s) for s in record["sources"])
    record["files"] = tuple(FileRef(**f) for f in record["files"])
    record["images"] = tuple(ImageRef(**i) for i in record["images"])
    return Turn(**record)


class Exports:
    """The exports of one host process (one connection)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or exports_dir()
        self._open: dict[str, Export] = {}

    def begin(self, conversation: Conversation, options: ExportOptions) -> Export:
        if len(self._open) >= MAX_OPEN_EXPORTS:
            msg = f"at most {MAX_OPEN_EXPORTS} exports may be open at once; commit or abort one"
            raise TooLarge(msg)
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            sweep(self.folder)
            export_id = secrets.token_hex(16)
            path = self.folder / f"{os.getpid()}-{export_id}{_SUFFIX}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        except OSError as err:
            msg = f"cannot start an export in {self.folder}: {err.strerror}"
            raise IoError(msg) from err
        export = Export(export_id, conversation, options, path)
        self._open[export_id] = export
        return export

    def get(self, export_id: object) -> Export:
        if not isinstance(export_id, str) or len(export_id) != 32:
            msg = "field 'export_id' must be the id export_begin answered"
            raise BadRequest(msg)
        export = self._open.get(export_id)
        if export is None:
            msg = f"no open export {export_id} (committed, aborted, or from another connection)"
            raise NotFound(msg)
        return export

    def finish(self, export_id: object) -> Export:
        export = self.get(export_id)
        del self._open[export.id]
        return export

    def close_all(self) -> None:
        for export in self._open.values():
            export.discard()
        self._open.clear()


def sweep(folder: Path, *, now: float | None = None) -> int:
    """Delete spool files of processes that are gone, or older than an hour."""
    from dsexport.native.transfer import _process_exists

    now = now or time.time()
    removed = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            pid, _, rest = entry.name.partition("-")
            if not (pid.isdigit() and rest.endswith(_SUFFIX)):
                continue
            with contextlib.suppress(OSError):
                old = now - entry.stat(follow_symlinks=False).st_mtime > ABANDONED_AFTER_SECONDS
                if old or (int(pid) != os.getpid() and not _process_exists(int(pid))):
                    os.unlink(entry.path)
                    removed += 1
    return removed
