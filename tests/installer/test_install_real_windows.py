"""Windows for real: ``dsexport install`` writes the manifests under ``%LOCALAPPDATA%\\dsexport``
and the HKCU registry keys Chrome, Chromium, Edge and Firefox read (the real registry, through
``winreg``); each manifest's launcher (the ``dsexport-host.exe`` console script, which Chrome can
start without cmd.exe) started the way the browser starts it answers a ping; ``doctor`` is clean;
``uninstall`` removes exactly those keys and files.

It writes this user's real registry, so it runs in CI only (GitHub's Windows runners), and refuses
to run where DS Export is already registered."""

from __future__ import annotations

import json
import os
import sys

import pytest
from installer_helpers import FIREFOX_ID, HOST, ORIGIN, REAL_REGISTRY, dsexport, ping_as_browser

from dsexport.installer.launcher import windows_exe

pytestmark = [
    pytest.mark.skipif(sys.platform != "win32", reason="the Windows registry"),
    pytest.mark.skipif(
        not REAL_REGISTRY,
        reason="writes this user's real registry (HKCU): opt in with "
        "DSEXPORT_TEST_REAL_REGISTRY=1 (CI does)",
    ),
]

KEYS = {
    "chrome": rf"Software\Google\Chrome\NativeMessagingHosts\{HOST}",
    "chromium": rf"Software\Chromium\NativeMessagingHosts\{HOST}",
    "edge": rf"Software\Microsoft\Edge\NativeMessagingHosts\{HOST}",
    "firefox": rf"Software\Mozilla\NativeMessagingHosts\{HOST}",
}


def _default_value(key: str) -> str | None:
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
            return winreg.QueryValueEx(handle, "")[0]
    except FileNotFoundError:
        return None


def _same(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def test_install_writes_real_registry_keys_pings_and_uninstalls(tmp_path):
    home = tmp_path / "home"
    local, roaming = home / "AppData" / "Local", home / "AppData" / "Roaming"
    local.mkdir(parents=True)
    roaming.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "WIN_PD_"))}
    env.update(HOME=str(home), USERPROFILE=str(home), LOCALAPPDATA=str(local), APPDATA=str(roaming))
    assert [k for k in KEYS.values() if _default_value(k) is not None] == [], (
        "DS Export is already registered for this user; run `dsexport uninstall` first"
    )
    data = local / "dsexport"
    chromium_manifest = data / "NativeMessagingHosts" / "chromium" / f"{HOST}.json"
    firefox_manifest = data / "NativeMessagingHosts" / "firefox" / f"{HOST}.json"
    names = [arg for name in KEYS for arg in ("--browser", name)]
    try:
        result = dsexport("install", *names, env=env)
        assert result.returncode == 0, result.stdout + result.stderr

        for name, key in KEYS.items():
            expected = firefox_manifest if name == "firefox" else chromium_manifest
            value = _default_value(key)
            assert value is not None and _same(value, expected), (key, value)
        chromium = json.loads(chromium_manifest.read_text(encoding="utf-8"))
        firefox = json.loads(firefox_manifest.read_text(encoding="utf-8"))
        assert chromium["allowed_origins"] == [ORIGIN]
        assert firefox["allowed_extensions"] == [FIREFOX_ID]
        # The console script pip put beside (venv) or under Scripts\ of (system) this Python.
        exe = windows_exe(sys.executable, os.path.exists)
        assert exe and _same(chromium["path"], exe) and _same(firefox["path"], exe)
        for manifest in (chromium_manifest, firefox_manifest):
            reply = ping_as_browser(str(manifest), env=env)
            assert reply["ok"] is True, (manifest, reply)
        doctor = dsexport("doctor", env=env)
        assert doctor.returncode == 0, doctor.stdout
    finally:
        removed = dsexport("uninstall", env=env)

    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert {k: _default_value(k) for k in KEYS.values()} == dict.fromkeys(KEYS.values())
    assert not chromium_manifest.exists() and not firefox_manifest.exists()
