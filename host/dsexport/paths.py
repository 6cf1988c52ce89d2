"""Where DS Export keeps things on each OS:

- config: ``~/.config/dsexport``; macOS ``~/Library/Application Support/dsexport``; Windows
  ``%LOCALAPPDATA%\\dsexport``
- data (catalog, install record, private venv): ``~/.local/share/dsexport``; macOS and Windows
  as config
- cache: ``~/.cache/dsexport``; ``~/Library/Caches/dsexport``; ``%LOCALAPPDATA%\\dsexport\\Cache``
- logs: ``~/.local/state/dsexport/log``; ``~/Library/Logs/dsexport``;
  ``%LOCALAPPDATA%\\dsexport\\Logs``

On Linux and macOS an absolute ``$XDG_CONFIG_HOME`` / ``$XDG_DATA_HOME`` / ``$XDG_CACHE_HOME``
(Linux also ``$XDG_STATE_HOME``) takes precedence; on Windows ``WIN_PD_OVERRIDE_LOCAL_APPDATA``
does. Pictures and Downloads follow ``$XDG_PICTURES_DIR`` / ``user-dirs.dirs`` (Linux, where they
are often localised, e.g. ``~/图片``) and the shell's known folders (Windows, e.g. moved to
OneDrive).

These are platformdirs' answers for ``PlatformDirs("dsexport", appauthor=False)``, written out
here because the native host needs the cache and config folders on every browser call, and
importing platformdirs (which pulls in pathlib, tempfile, shutil, lzma and bz2) cost more than
the rest of a ``ping``. tests/installer/test_paths.py compares both on the OS it runs on.

The ``*_str`` functions return plain strings and import nothing; the others return ``Path``.
Nothing here caches: tests point HOME and the variables above at temporary folders.
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

APP_NAME = "dsexport"


# --------------------------------------------------------------------------------------------
# Plain strings (the native host's start-up path)


def config_dir_str() -> str:
    if sys.platform == "win32":
        return _windows_app_dir()
    base = _xdg("XDG_CONFIG_HOME") or _home_join(*_MAC_APP_SUPPORT if _mac() else (".config",))
    return os.path.join(base, APP_NAME)


def config_file_str() -> str:
    return os.path.join(config_dir_str(), "config.json")


def data_dir_str() -> str:
    """Catalog, install record, private virtual environment."""
    if sys.platform == "win32":
        return _windows_app_dir()
    base = _xdg("XDG_DATA_HOME") or _home_join(*_MAC_APP_SUPPORT if _mac() else (".local", "share"))
    return os.path.join(base, APP_NAME)


def cache_dir_str() -> str:
    """Chunked transfers in progress (abandoned ones are swept), the ping's cached answers."""
    if sys.platform == "win32":
        return os.path.join(_windows_app_dir(), "Cache")
    base = _xdg("XDG_CACHE_HOME") or _home_join(*("Library", "Caches") if _mac() else (".cache",))
    return os.path.join(base, APP_NAME)


def log_dir_str() -> str:
    if sys.platform == "win32":
        return os.path.join(_windows_app_dir(), "Logs")
    if _mac():
        return _home_join("Library", "Logs", APP_NAME)
    base = _xdg("XDG_STATE_HOME") or _home_join(".local", "state")
    return os.path.join(base, APP_NAME, "log")


def pictures_dir_str() -> str:
    return _media_dir("XDG_PICTURES_DIR", "Pictures", "MYPICTURES", "My Pictures")


def downloads_dir_str() -> str:
    return _media_dir(
        "XDG_DOWNLOAD_DIR", "Downloads", "DOWNLOADS", "{374DE290-123F-4565-9164-39C4925E467B}"
    )


def default_output_dir_str() -> str:
    """``<Pictures>/DeepSeek``, e.g. ``~/Pictures/DeepSeek``."""
    return os.path.join(pictures_dir_str(), "DeepSeek")


# --------------------------------------------------------------------------------------------
# Path objects (everything else)


def config_dir() -> Path:
    return _path(config_dir_str())


def config_file() -> Path:
    return _path(config_file_str())


def data_dir() -> Path:
    """Catalog, install state, private virtual environment."""
    return _path(data_dir_str())


def log_dir() -> Path:
    return _path(log_dir_str())


def cache_dir() -> Path:
    """Chunked transfers in progress (abandoned ones are swept)."""
    return _path(cache_dir_str())


def default_output_dir() -> Path:
    """``<Pictures>/DeepSeek``, e.g. ``~/Pictures/DeepSeek``."""
    return _path(default_output_dir_str())


def default_download_dir() -> Path:
    """The browser's usual download folder; ``embed`` may touch files only there or in the output
    folder (plus folders the extension reports)."""
    return _path(downloads_dir_str())


# --------------------------------------------------------------------------------------------
# The rules


_MAC_APP_SUPPORT = ("Library", "Application Support")


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def _mac() -> bool:
    return sys.platform == "darwin"


def _home_join(*parts: str) -> str:
    return os.path.join(os.path.expanduser("~"), *parts)


def _xdg(name: str) -> str | None:
    # The XDG base-directory spec: a relative value is invalid and ignored.
    value = os.environ.get(name, "")
    return value if value.startswith("/") else None


def _media_dir(xdg_name: str, default: str, csidl: str, shell_folder: str) -> str:
    if sys.platform == "win32":
        return os.path.normpath(_windows_known_folder(csidl, shell_folder, default))
    found = _xdg(xdg_name)
    if found is None and not _mac():
        found = _user_dirs_entry(xdg_name)
    return found or _home_join(default)


# ---- Linux: ~/.config/user-dirs.dirs, as xdg-user-dirs-update writes it


def _user_dirs_entry(key: str) -> str | None:
    """``XDG_PICTURES_DIR="$HOME/图片"`` → ``/home/me/图片``; the last valid line wins. The file is
    ignored unless it is a regular file of root or this user that others cannot write, as
    platformdirs does (another user must not redirect where images are saved)."""
    import stat

    path = os.path.join(_xdg("XDG_CONFIG_HOME") or _home_join(".config"), "user-dirs.dirs")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid not in (0, os.geteuid()):
            return None
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        text = os.read(fd, 64 * 1024).decode(sys.getfilesystemencoding(), "surrogateescape")
    except OSError:
        return None
    finally:
        os.close(fd)
    found = None
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if not sep or name.strip() != key:
            continue
        resolved = _user_dirs_value(value.strip())
        found = resolved or found
    return found


def _user_dirs_value(raw: str) -> str | None:
    """One right-hand side: ``"$HOME/My \\"Pics\\""`` (quoted, backslash escapes ``$ ` " \\``)
    or a bare word; ``$HOME`` is expanded only at the start, anything else must be absolute."""
    if raw.startswith('"'):
        value = re.match(r'"((?:[^"\\]|\\.)*)', raw).group(1)  # up to the closing quote
        escapes = r'\\([$`"\\])'
    else:
        value = re.match(r"(?:[^\s\\]|\\.)*", raw).group()  # up to the first unescaped blank
        escapes = r"\\(.)"
    if value == "$HOME" or value.startswith("$HOME/"):
        prefix, value = os.path.expanduser("~").rstrip("/"), value[len("$HOME") :]
    elif value.startswith("/"):
        prefix = ""
    else:
        return None
    return prefix + re.sub(escapes, r"\1", value) or "/"


# ---- Windows


def _windows_app_dir() -> str:
    return os.path.join(os.path.normpath(_windows_local_appdata()), APP_NAME)


def _windows_local_appdata() -> str:
    for name in ("WIN_PD_OVERRIDE_LOCAL_APPDATA", "LOCALAPPDATA"):
        value = os.environ.get(name, "").strip()
        if _windows_absolute(value):
            return value
    return _home_join("AppData", "Local")


def _windows_known_folder(csidl: str, shell_folder: str, default: str) -> str:
    override = os.environ.get(f"WIN_PD_OVERRIDE_{csidl}", "").strip()
    if _windows_absolute(override):
        return override
    # The per-user value Explorer keeps for the known folder (REG_EXPAND_SZ, e.g.
    # "%USERPROFILE%\OneDrive\Pictures" once OneDrive backs up Pictures); winreg is built in.
    try:
        import winreg

        key = r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders"
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
            value, _ = winreg.QueryValueEx(handle, shell_folder)
        value = os.path.expandvars(str(value))
        if _windows_absolute(value):
            return value
    except (ImportError, OSError):
        pass
    profile = os.environ.get("USERPROFILE") or os.path.expanduser("~")
    return os.path.join(profile, default)


def _windows_absolute(value: str) -> bool:
    return len(value) > 2 and (value[1:3] in (":\\", ":/") or value.startswith("\\\\"))
