"""macOS for real: ``dsexport install`` into a temporary HOME writes the host manifests where
Chrome and Firefox on macOS read them (``~/Library/Application Support/…``) and the launcher in
DS Export's data folder, whose path has a space in it; every launcher started the way the browser
starts it answers a ping; ``doctor`` is clean; ``uninstall`` leaves Application Support as it was.
CI runs it on GitHub's macOS runners."""

from __future__ import annotations

import json
import os
import sys

import pytest
from installer_helpers import (
    FIREFOX_ID,
    HOST,
    MAC_APP_SUPPORT,
    ORIGIN,
    dsexport,
    listing,
    ping_as_browser,
    record_manifests,
)

from dsexport.cli.host import LAUNCH_CODE

pytestmark = pytest.mark.skipif(sys.platform != "darwin", reason="macOS install locations")


def test_install_writes_real_macos_paths_pings_and_uninstalls(tmp_path):
    # Arrange: a user who has started Chrome and Firefox once (their profile folders exist).
    home = tmp_path / "home"
    support = home / MAC_APP_SUPPORT
    for folder in ("Google/Chrome", "Firefox"):
        (support / folder).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CHROME_"))}
    env["HOME"] = str(home)
    before = listing(support)

    # Act
    result = dsexport("install", env=env)

    # Assert: the documented locations, the launcher in a folder with a space in its name
    assert result.returncode == 0, result.stdout + result.stderr
    chrome = support / "Google/Chrome/NativeMessagingHosts" / f"{HOST}.json"
    firefox = support / "Mozilla/NativeMessagingHosts" / f"{HOST}.json"
    assert json.loads(chrome.read_text())["allowed_origins"] == [ORIGIN]
    assert json.loads(firefox.read_text())["allowed_extensions"] == [FIREFOX_ID]
    launcher = support / "dsexport" / "dsexport-host"
    assert json.loads(chrome.read_text())["path"] == str(launcher)
    assert f"-c '{LAUNCH_CODE}'" in launcher.read_text()
    assert os.access(launcher, os.X_OK)
    manifests = record_manifests(support / "dsexport")
    assert {str(chrome), str(firefox)} <= set(manifests)
    for manifest in manifests:
        reply = ping_as_browser(manifest, env=env)
        assert reply["ok"] is True, (manifest, reply)
    doctor = dsexport("doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout

    # Act + Assert: uninstall restores Application Support (caches and logs live elsewhere)
    removed = dsexport("uninstall", env=env)
    assert removed.returncode == 0, removed.stderr
    assert listing(support) == before
