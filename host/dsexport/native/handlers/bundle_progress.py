"""How far a ``bundle`` has got (``bundle_progress``), for the library's progress bar.

A ``bundle`` keeps its host busy until the archive is written, and replies come in order, so the
page sends it on a second connection (a second host process) with a ``progress`` token and asks
this one on its first connection. The bundling host writes ``<cache dir>/progress/<token>.json``
(atomically, at most a few times a second) and deletes it when done.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dsexport.errors import BadRequest
from dsexport.native.handlers.fields import get_field
from dsexport.native.session import Request, Session

TOKEN = re.compile(r"[0-9a-f]{32}")
EVERY_S = 0.2
STALE_S = 24 * 3600


def progress_token(req: Request) -> str | None:
    token = get_field(req, "progress", str, required=False)
    if token is not None and not TOKEN.fullmatch(token):
        msg = "field 'progress' must be 32 lowercase hex digits"
        raise BadRequest(msg)
    return token


def _file(token: str) -> Path:
    from dsexport import paths

    return paths.cache_dir() / "progress" / f"bundle-{token}.json"


@contextlib.contextmanager
def progress_file(token: str | None) -> Iterator[Any]:
    """A ``bundle.Progress`` callback that writes the token's file (``None`` without a token);
    the file is removed when the block ends."""
    if token is None:
        yield None
        return
    target = _file(token)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _sweep(target.parent)
    last = [0.0]

    def write(done: int, total: int, written: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - last[0] < EVERY_S:
            return
        last[0] = now
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps({"done": done, "total": total, "bytes": written}))
            os.replace(tmp, target)

    write(0, 0, 0, force=True)
    try:
        yield write
    finally:
        with contextlib.suppress(OSError):
            target.unlink()


def _sweep(folder: Path) -> None:
    """Files a killed host left behind."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_S:
                    os.unlink(entry.path)


def bundle_progress(req: Request, session: Session) -> dict[str, Any]:
    """→ ``{"running": true, "done", "total", "bytes"}`` while the bundle with this ``progress``
    token is being written, ``{"running": false}`` before it starts and after it ends."""
    token = progress_token(req)
    if token is None:
        msg = "'bundle_progress' needs the field 'progress'"
        raise BadRequest(msg)
    try:
        with open(_file(token), encoding="utf-8") as fh:
            data = json.loads(fh.read(4096))
        return {
            "running": True,
            "done": int(data.get("done", 0)),
            "total": int(data.get("total", 0)),
            "bytes": int(data.get("bytes", 0)),
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {"running": False}
