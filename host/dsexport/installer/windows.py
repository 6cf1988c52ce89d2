"""Windows: one manifest per browser family under ``%LOCALAPPDATA%\\dsexport\\NativeMessagingHosts``
and a registry key per browser vendor whose default value is that manifest's absolute path
(HKCU; ``--system``: ``%PROGRAMDATA%\\dsexport`` and HKLM)."""

from __future__ import annotations

from pathlib import PureWindowsPath

from dsexport.installer.base import HOST_NAME, Platform
from dsexport.installer.browsers import Browser, Place


class Windows(Platform):
    name = "windows"
    path_type = PureWindowsPath

    def template_vars(self) -> dict[str, str]:
        home = PureWindowsPath(self.home)
        env = {k.upper(): v for k, v in self.env.items()}
        return {
            "home": str(home),
            "localappdata": env.get("LOCALAPPDATA") or str(home / "AppData" / "Local"),
            "appdata": env.get("APPDATA") or str(home / "AppData" / "Roaming"),
            "programdata": env.get("PROGRAMDATA") or r"C:\ProgramData",
        }

    def default_data_dir(self) -> str:
        # platformdirs' user_data_dir with appauthor=False: %LOCALAPPDATA%\dsexport.
        return str(PureWindowsPath(self.template_vars()["localappdata"]) / "dsexport")

    def system_data_dir(self) -> str:
        return str(PureWindowsPath(self.template_vars()["programdata"]) / "dsexport")

    def manifest_paths(self, browser: Browser, place: Place, system: bool) -> list[str]:
        folder = self.data_dir(system) / "NativeMessagingHosts" / browser.family
        return [str(folder / f"{HOST_NAME}.json")]

    def registrations(self, browser: Browser, place: Place, system: bool) -> list[tuple[str, str]]:
        hive = "HKLM" if system else "HKCU"
        return [(hive, f"{key}\\{HOST_NAME}") for key in place.registry_keys]
