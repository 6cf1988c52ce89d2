"""Show a saved file in the OS file manager: argv lists only, never a shell."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dsexport.errors import ForbiddenPath, IoError, NotFound
from dsexport.native.handlers.fields import abs_path_field, is_within, load_config, output_dir
from dsexport.native.session import Request, Session


def reveal(req: Request, session: Session) -> dict[str, Any]:
    """Show a saved file in the OS file manager: a ``path`` inside the output folder, or the
    file of catalog entry ``entry_id`` (the library page; imported files may live elsewhere)."""
    if req.fields.get("entry_id") is not None:
        path = _catalogued(req, session)
    else:
        path = abs_path_field(req)
        root = output_dir(load_config())
        if not is_within(path, [root]):
            msg = f"{path} is not inside the output folder {root}"
            raise ForbiddenPath(msg)
    if not path.exists():
        msg = f"{path} does not exist (it may have been moved or deleted)"
        raise NotFound(msg)
    opener = session.opener or run_commands
    opener(reveal_commands(Path(os.path.realpath(path))))
    return {}


def _catalogued(req: Request, session: Session) -> Path:
    """The path of a catalog entry that is still a regular file (not a link)."""
    import sqlite3

    from dsexport.catalog.reading import check_path
    from dsexport.native.handlers.library_state import int_field, state_of

    entry_id = int_field(req, "entry_id", low=1, high=2**63 - 1)
    try:
        entry = state_of(session).catalog.by_id(entry_id)
    except sqlite3.Error as err:
        msg = f"the catalog cannot be read ({err})"
        raise IoError(msg) from err
    if entry is None:
        msg = f"catalog entry {entry_id} does not exist (any more)"
        raise NotFound(msg)
    check_path(entry.path)
    return Path(entry.path)


Opener = Callable[[list[list[str]]], str]


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
