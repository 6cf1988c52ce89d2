"""Where DS Export keeps things on each OS (platformdirs), e.g. ``config_dir()`` →
``~/.config/dsexport`` on Linux, ``~/Library/Application Support/dsexport`` on macOS,
``%LOCALAPPDATA%\\dsexport\\dsexport`` on Windows.

Tests point these at a temporary HOME (and XDG_* variables on Linux); nothing here caches.
"""

from __future__ import annotations

from pathlib import Path

APP_NAME = "dsexport"


def _dirs():  # platformdirs is cheap to import, but only the host's config path needs it
    import platformdirs

    return platformdirs.PlatformDirs(APP_NAME, appauthor=False)


def config_dir() -> Path:
    return Path(_dirs().user_config_dir)


def config_file() -> Path:
    return config_dir() / "config.json"


def data_dir() -> Path:
    """Catalog, install state, private virtual environment."""
    return Path(_dirs().user_data_dir)


def log_dir() -> Path:
    return Path(_dirs().user_log_dir)


def cache_dir() -> Path:
    """Chunked transfers in progress (abandoned ones are swept)."""
    return Path(_dirs().user_cache_dir)


def default_output_dir() -> Path:
    """``<Pictures>/DeepSeek``, e.g. ``~/Pictures/DeepSeek``."""
    import platformdirs

    return Path(platformdirs.user_pictures_dir()) / "DeepSeek"


def default_download_dir() -> Path:
    """The browser's usual download folder; ``embed`` may touch files only there or in the output
    folder (plus folders the extension reports)."""
    import platformdirs

    return Path(platformdirs.user_downloads_dir())
