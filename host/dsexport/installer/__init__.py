"""Registering the native host with browsers, per OS; ``current()`` is this machine's platform.

The OS module is chosen once, here (platformdirs' pattern); the others still import on any OS so
their plans can be tested on Linux.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dsexport.installer.base import HOST_NAME, InstallRequest, Platform

if sys.platform == "win32":
    from dsexport.installer.windows import Windows as _Native
elif sys.platform == "darwin":
    from dsexport.installer.macos import MacOS as _Native
else:
    from dsexport.installer.linux import Linux as _Native

__all__ = ["HOST_NAME", "InstallRequest", "Platform", "current"]


def current() -> Platform:
    """This machine, with its real home, environment, registry and ``paths.data_dir()``."""
    from dsexport import paths

    registry = None
    if sys.platform == "win32":
        from dsexport.installer.registry import WinRegistry

        registry = WinRegistry()
    return _Native(home=Path.home(), registry=registry, data_dir=paths.data_dir())
