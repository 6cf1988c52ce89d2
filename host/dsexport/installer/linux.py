"""Linux: manifests in each browser's ``NativeMessagingHosts`` folder under ``~/.config`` (or
``$CHROME_CONFIG_HOME`` / ``$XDG_CONFIG_HOME``), Firefox's in ``~/.mozilla``; ``--system`` uses
``/etc/opt/chrome/…``, ``/etc/chromium/…`` and ``/usr/lib/mozilla/native-messaging-hosts``.
Snap and Flatpak builds are detected and explained (browsers.SANDBOXES)."""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from dsexport.installer.base import Platform
from dsexport.installer.browsers import SANDBOXES, Sandbox


class Linux(Platform):
    name = "linux"
    path_type = PurePosixPath

    def template_vars(self) -> dict[str, str]:
        home = self.home
        config = _absolute(self.env.get("XDG_CONFIG_HOME")) or f"{home}/.config"
        return {
            "home": home,
            "config": config,
            # Chromium: $CHROME_CONFIG_HOME, else $XDG_CONFIG_HOME, else ~/.config
            # (chrome/common/chrome_paths_linux.cc).
            "chrome_config": _absolute(self.env.get("CHROME_CONFIG_HOME")) or config,
            "data": _absolute(self.env.get("XDG_DATA_HOME")) or f"{home}/.local/share",
        }

    def default_data_dir(self) -> str:
        return f"{self.template_vars()['data']}/dsexport"

    def system_data_dir(self) -> str:
        return "/usr/local/lib/dsexport"

    def detected_sandboxes(self) -> list[Sandbox]:
        return [s for s in SANDBOXES if any(self.exists(self.expand(p)) for p in s.detect)]


def _absolute(value: str | None) -> str | None:
    # The XDG spec says relative values are invalid and must be ignored.
    return value if value and os.path.isabs(value) else None
