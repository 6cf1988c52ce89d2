"""The program a host manifest's ``path`` points at: it starts ``dsexport host`` with the exact
interpreter that ran ``dsexport install``, so the browser's PATH never matters (on macOS a
browser started from the Dock does not see the shell's PATH; reference §1.4, §3.9).

- Linux/macOS: ``<data dir>/dsexport-host``, a ``/bin/sh`` script that ``exec``s the absolute
  interpreter. NOTE: the interpreter is not put in the shebang itself because the macOS venv path
  (``~/Library/Application Support/dsexport/venv/bin/python``) contains a space, which a shebang
  cannot hold, and long venv paths exceed the 127-byte shebang limit of older Linux kernels. pip
  uses the same ``/bin/sh`` + ``exec`` trick for such paths.
- Windows: the console-script ``dsexport-host.exe`` next to the interpreter when it exists (Chrome
  can start an ``.exe`` directly, without ``cmd.exe``; reference §1.6), else
  ``<data dir>\\dsexport-host.bat``, which Chrome and Firefox run through ``cmd.exe /c``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import PurePath, PureWindowsPath

from dsexport.cli.host import LAUNCH_CODE

POSIX_NAME = "dsexport-host"
BAT_NAME = "dsexport-host.bat"
#: Console script a Windows install can point at directly; see the module docstring.
WINDOWS_EXE = "dsexport-host.exe"


def posix_script(python: str) -> str:
    """``#!/bin/sh`` … ``exec '/abs/python' -c '…console_main()' "$@"`` (``LAUNCH_CODE``)."""
    return (
        "#!/bin/sh\n"
        "# DS Export native-messaging host, written by `dsexport install`.\n"
        "# Browsers start this file.\n"
        "# It runs the host with the interpreter DS Export was installed into\n"
        "# (the same as `dsexport host`, without the start-up cost of `python -m`).\n"
        f'exec {shlex.quote(python)} -c {shlex.quote(LAUNCH_CODE)} "$@"\n'
    )


def windows_bat(python: str) -> str:
    # CRLF because cmd.exe is the reader; the origin argument is browser-controlled and benign
    # (chrome-extension://[a-p]{32}/ --parent-window=0), see reference §1.6 on BatBadBut.
    return (
        "@echo off\r\n"
        "rem DS Export native-messaging host, written by `dsexport install`.\r\n"
        f'"{python}" -c "{LAUNCH_CODE}" %*\r\n'
    )


def windows_exe(python: str, exists: Callable[[str], bool]) -> str | None:
    """The console-script .exe for ``python``: ``…\\venv\\Scripts\\python.exe`` has it beside
    itself, a system ``C:\\Python311\\python.exe`` in ``Scripts\\``."""
    here = PureWindowsPath(python).parent
    for folder in (here, here / "Scripts"):
        candidate = str(folder / WINDOWS_EXE)
        if exists(candidate):
            return candidate
    return None


def plan_launcher(
    os_name: str, base_dir: PurePath, python: str, exists: Callable[[str], bool]
) -> tuple[str, str | None]:
    """``(path, script text or None)``: None means an existing program is used as is."""
    if os_name == "windows":
        exe = windows_exe(python, exists)
        if exe:
            return exe, None
        return str(base_dir / BAT_NAME), windows_bat(python)
    return str(base_dir / POSIX_NAME), posix_script(python)
