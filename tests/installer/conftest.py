"""Fixtures for installer tests: the extension's IDs and an install request for them."""

from __future__ import annotations

import pytest
from installer_helpers import CHROMIUM_ID, FIREFOX_ID

from dsexport.installer.base import InstallRequest


@pytest.fixture
def request_for():
    """``request_for(browsers=("chromium",), system=True)`` → an InstallRequest for our IDs."""

    def make(**kw) -> InstallRequest:
        kw.setdefault("python", "/opt/py/bin/python3")
        return InstallRequest(chromium_ids=(CHROMIUM_ID,), firefox_ids=(FIREFOX_ID,), **kw)

    return make
