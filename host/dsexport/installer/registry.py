"""The Windows registry, behind a protocol small enough to fake.

Keys are written without the hive, e.g. ``Software\\Google\\Chrome\\NativeMessagingHosts\\
org.dsexport.host``; hives are ``"HKCU"`` or ``"HKLM"``; the default value has the name ``""``.
``WinRegistry`` imports ``winreg`` inside each method so this module imports on every OS.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

Value = str | int | list[str]


class Registry(Protocol):
    def get_value(self, hive: str, key: str, name: str = "") -> Value | None:
        """The value, or None when the key or the value is missing."""

    def set_value(self, hive: str, key: str, name: str, value: str) -> None:
        """Create the key (and its parents) if needed, then set a REG_SZ value."""

    def key_exists(self, hive: str, key: str) -> bool: ...

    def values(self, hive: str, key: str) -> dict[str, Value]:
        """Every value of the key ({} when the key is missing)."""

    def subkeys(self, hive: str, key: str) -> list[str]: ...

    def delete_key(self, hive: str, key: str) -> None:
        """Delete a key that has no subkeys; missing keys are fine."""


def _norm(key: str) -> str:
    return key.strip("\\").lower()


class FakeRegistry:
    """In-memory registry for tests; case-insensitive like the real one."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], tuple[str, dict[str, Value]]] = {}

    def _create(self, hive: str, key: str) -> dict[str, Value]:
        parts = key.strip("\\").split("\\")
        for i in range(1, len(parts) + 1):
            sub = "\\".join(parts[:i])
            self._keys.setdefault((hive, _norm(sub)), (sub, {}))
        return self._keys[(hive, _norm(key))][1]

    def get_value(self, hive: str, key: str, name: str = "") -> Value | None:
        entry = self._keys.get((hive, _norm(key)))
        return None if entry is None else entry[1].get(name)

    def set_value(self, hive: str, key: str, name: str, value: Value) -> None:
        self._create(hive, key)[name] = value

    def key_exists(self, hive: str, key: str) -> bool:
        return (hive, _norm(key)) in self._keys

    def values(self, hive: str, key: str) -> dict[str, Value]:
        entry = self._keys.get((hive, _norm(key)))
        return dict(entry[1]) if entry else {}

    def subkeys(self, hive: str, key: str) -> list[str]:
        prefix = _norm(key) + "\\"
        return sorted(
            orig.split("\\")[-1]
            for (h, k), (orig, _) in self._keys.items()
            if h == hive and k.startswith(prefix) and "\\" not in k[len(prefix) :]
        )

    def delete_key(self, hive: str, key: str) -> None:
        if self.subkeys(hive, key):
            msg = f"{hive}\\{key} has subkeys"
            raise OSError(msg)
        self._keys.pop((hive, _norm(key)), None)

    def dump(self) -> dict[str, dict[str, Value]]:
        """``{"HKCU\\Software\\…": {"": "C:\\…json"}}`` for every key, for test assertions."""
        return {f"{h}\\{orig}": dict(vals) for (h, _), (orig, vals) in sorted(self._keys.items())}


class WinRegistry:
    """The real registry (Windows only)."""

    @staticmethod
    def _hive(hive: str):
        import winreg

        return {"HKCU": winreg.HKEY_CURRENT_USER, "HKLM": winreg.HKEY_LOCAL_MACHINE}[hive]

    def get_value(self, hive: str, key: str, name: str = "") -> Value | None:
        import winreg

        try:
            with winreg.OpenKey(self._hive(hive), key) as handle:
                return winreg.QueryValueEx(handle, name)[0]
        except OSError:
            return None

    def set_value(self, hive: str, key: str, name: str, value: str) -> None:
        import winreg

        with winreg.CreateKeyEx(self._hive(hive), key, 0, winreg.KEY_SET_VALUE) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, value)

    def key_exists(self, hive: str, key: str) -> bool:
        import winreg

        try:
            winreg.OpenKey(self._hive(hive), key).Close()
        except OSError:
            return False
        return True

    def values(self, hive: str, key: str) -> dict[str, Value]:
        import winreg

        out: dict[str, Value] = {}
        try:
            with winreg.OpenKey(self._hive(hive), key) as handle:
                for i in range(winreg.QueryInfoKey(handle)[1]):
                    name, value, _ = winreg.EnumValue(handle, i)
                    out[name] = value
        except OSError:
            return {}
        return out

    def subkeys(self, hive: str, key: str) -> list[str]:
        import winreg

        try:
            with winreg.OpenKey(self._hive(hive), key) as handle:
                return [winreg.EnumKey(handle, i) for i in range(winreg.QueryInfoKey(handle)[0])]
        except OSError:
            return []

    def delete_key(self, hive: str, key: str) -> None:
        import winreg

        with contextlib.suppress(FileNotFoundError):
            winreg.DeleteKey(self._hive(hive), key)
