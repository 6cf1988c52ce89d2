"""The release XPI installed permanently in Firefox ESR, as a person would keep DS Export across
restarts: the package ``tools/build_release.py`` builds (``extension_package.build_package``),
installed from its file into a profile that allows unsigned add-ons
(``xpinstall.signatures.required=false``), Firefox restarted, the add-on still there and not
temporary, and a conversation saved with it through the real host."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from e2e_support import (
    EXTENSION_DIR,
    GECKO_ID,
    RASTER,
    assert_same_image_data,
    install_firefox_host,
    match_original,
    sniff,
)
from firefox import ConnectProxy, Firefox, write_profile
from test_firefox import _call, _extension_page, _firefox_exe, _open_conversation, _scan, _tab_id

from dsexport.installer import extension_package

pytestmark = pytest.mark.e2e

UNSIGNED_PREFS = {"xpinstall.signatures.required": False}


def _add_prefs(profile: Path, prefs: dict) -> None:
    with open(profile / "user.js", "a", encoding="utf-8") as fh:
        fh.writelines(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())


def _addon(ff: Firefox) -> dict | None:
    """What Firefox's add-on manager says about DS Export (from the browser's own scope)."""
    chrome = ff.cmd("browsingContext.getTree", **{"moz:scope": "chrome"})["contexts"][0]
    result = ff.cmd(
        "script.evaluate",
        expression=(
            "(async () => { const {AddonManager} = ChromeUtils.importESModule("
            "'resource://gre/modules/AddonManager.sys.mjs');"
            f"const a = await AddonManager.getAddonByID({json.dumps(GECKO_ID)});"
            "return JSON.stringify(a && {version: a.version, active: a.isActive, "
            "temporary: a.temporarilyInstalled, profile: a.scope === AddonManager.SCOPE_PROFILE, "
            "signed: a.signedState}); })()"
        ),
        target={"context": chrome["context"]},
        awaitPromise=True,
    )
    value = result["result"].get("value")
    return json.loads(value) if isinstance(value, str) else None


def _quit(ff: Firefox, timeout: float = 30) -> None:
    ff.cmd("browser.close")
    ff.proc.wait(timeout)


def _wait_for_addon(ff: Firefox, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = _addon(ff)
        if info and info["active"]:
            return info
        if time.monotonic() > deadline:
            pytest.fail(f"DS Export is not active in Firefox: {info}")
        time.sleep(0.3)


def test_release_xpi_installed_permanently_survives_a_restart_and_saves(
    dirs, sample, sample_server, tmp_path
):
    exe = _firefox_exe()
    xpi = extension_package.write_packages(EXTENSION_DIR, tmp_path / "dist")["firefox"]
    version = extension_package.read_manifest(EXTENSION_DIR)["version"]
    install_firefox_host(dirs.home)
    proxy = ConnectProxy(sample_server.port)
    profile = tmp_path / "firefox-profile"
    write_profile(profile, proxy_port=proxy.port, downloads=dirs.downloads)
    _add_prefs(profile, UNSIGNED_PREFS)
    env = dict(os.environ)
    try:
        # First run: install from the file, as "Install Add-on From File..." does.
        first = Firefox(exe, profile, env, tmp_path / "firefox-1.log")
        try:
            installed = first.cmd(
                "webExtension.install",
                extensionData={"type": "archivePath", "path": str(xpi)},
                **{"moz:permanent": True},
            )
            assert installed["extension"] == GECKO_ID
            info = _wait_for_addon(first)
            assert info == {
                "version": version,
                "active": True,
                "temporary": False,
                "profile": True,
                "signed": 0,  # AddonManager.SIGNEDSTATE_MISSING: unsigned, allowed by the pref
            }, info
            # Quit the way a person does (File > Quit): Firefox writes its add-on database on
            # the way out. A SIGTERM can beat that write, and the next start then treats the
            # add-on as sideloaded by someone else and disables it.
            _quit(first)
        finally:
            first.close()
        assert (profile / "extensions" / f"{GECKO_ID}.xpi").is_file()

        # Second run, same profile: still installed, and it saves a conversation.
        second = Firefox(exe, profile, env, tmp_path / "firefox-2.log")
        try:
            info = _wait_for_addon(second)
            assert info["temporary"] is False and info["version"] == version
            conv = sample.conversation("main")
            _open_conversation(second, conv.page_url)
            page = _extension_page(second)
            tab_id = _tab_id(second, page, conv.page_url)
            _scan(second, page, tab_id, len(conv.expected))
            summary = _call(second, page, "saveTab", {"tabId": tab_id, "options": {}})
        finally:
            second.close()
    finally:
        proxy.close()

    assert summary["failed"] == [], summary["failed"]
    found = set()
    for item in summary["saved"]:
        path = Path(item["path"])
        assert dirs.output in path.parents and path.is_file()
        data = path.read_bytes()
        if sniff(data) in RASTER:
            original = match_original(data, conv.expected)
            assert original is not None, path.name
            assert_same_image_data(data, original)
            found.add(original.url)
    assert found == {e.url for e in conv.expected}
