"""Fixtures shared by every test folder. Helpers live in ``testutil``."""

from __future__ import annotations

import pytest

from testutil import IN_CI, require_module, require_tool

__all__ = ["IN_CI", "require_module", "require_tool"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh HOME (and XDG dirs) so config, catalog and logs land in tmp_path."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_PICTURES_DIR", str(h / "Pictures"))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(h / "Downloads"))
    return h
