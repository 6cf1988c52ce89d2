"""macOS: manifests under ``~/Library/Application Support/<browser>/NativeMessagingHosts``
(Firefox: ``…/Mozilla/NativeMessagingHosts``); ``--system`` uses ``/Library/…``."""

from __future__ import annotations

from pathlib import PurePosixPath

from dsexport.installer.base import Platform


class MacOS(Platform):
    name = "macos"
    path_type = PurePosixPath

    def template_vars(self) -> dict[str, str]:
        return {"home": self.home, "appsupport": f"{self.home}/Library/Application Support"}

    def default_data_dir(self) -> str:
        return f"{self.home}/Library/Application Support/dsexport"

    def system_data_dir(self) -> str:
        return "/Library/Application Support/dsexport"
