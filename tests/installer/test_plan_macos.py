"""macOS plan, on any OS: fake home ``/Users/me``, detection from an injected set of paths."""

from __future__ import annotations

import json

import pytest
from installer_helpers import FIREFOX_ID, HOST, ORIGIN

from dsexport.cli.host import LAUNCH_CODE
from dsexport.installer.base import MakeExecutable, WriteFile
from dsexport.installer.browsers import BROWSERS
from dsexport.installer.macos import MacOS

HOME = "/Users/me"
AS = f"{HOME}/Library/Application Support"
M = f"{HOST}.json"
EXPECTED = {
    "chrome": (f"{AS}/Google/Chrome", [f"{AS}/Google/Chrome/NativeMessagingHosts/{M}"]),
    "chrome-beta": (
        f"{AS}/Google/Chrome Beta",
        [f"{AS}/Google/Chrome Beta/NativeMessagingHosts/{M}"],
    ),
    "chrome-unstable": (
        f"{AS}/Google/Chrome Dev",
        [f"{AS}/Google/Chrome Dev/NativeMessagingHosts/{M}"],
    ),
    "chromium": (f"{AS}/Chromium", [f"{AS}/Chromium/NativeMessagingHosts/{M}"]),
    "edge": ("/Applications/Microsoft Edge.app", [f"{AS}/Microsoft Edge/NativeMessagingHosts/{M}"]),
    # Brave reads its own folder or Chrome's depending on the version: both.
    "brave": (
        f"{AS}/BraveSoftware/Brave-Browser",
        [
            f"{AS}/BraveSoftware/Brave-Browser/NativeMessagingHosts/{M}",
            f"{AS}/Google/Chrome/NativeMessagingHosts/{M}",
        ],
    ),
    "vivaldi": (f"{HOME}/Applications/Vivaldi.app", [f"{AS}/Vivaldi/NativeMessagingHosts/{M}"]),
    "opera": (f"{AS}/com.operasoftware.Opera", [f"{AS}/Google/Chrome/NativeMessagingHosts/{M}"]),
    "firefox": ("/Applications/Firefox.app", [f"{AS}/Mozilla/NativeMessagingHosts/{M}"]),
    "librewolf": (f"{AS}/librewolf", [f"{AS}/LibreWolf/NativeMessagingHosts/{M}"]),
}
SYSTEM = {
    "chrome": ["/Library/Google/Chrome/NativeMessagingHosts"],
    "chrome-beta": ["/Library/Google/Chrome/NativeMessagingHosts"],
    "chrome-unstable": ["/Library/Google/Chrome/NativeMessagingHosts"],
    "chromium": ["/Library/Application Support/Chromium/NativeMessagingHosts"],
    "edge": ["/Library/Microsoft/Edge/NativeMessagingHosts"],
    "brave": ["/Library/Google/Chrome/NativeMessagingHosts"],
    "vivaldi": ["/Library/Application Support/Vivaldi/NativeMessagingHosts"],
    "opera": ["/Library/Google/Chrome/NativeMessagingHosts"],
    "firefox": ["/Library/Application Support/Mozilla/NativeMessagingHosts"],
    "librewolf": ["/Library/Application Support/LibreWolf/NativeMessagingHosts"],
}
FAMILY = {b.name: b.family for b in BROWSERS}
LAUNCHER = f"{AS}/dsexport/dsexport-host"


def make_mac(*present: str) -> MacOS:
    return MacOS(
        home=HOME, env={"HOME": HOME}, exists=set(present).__contains__, which=lambda n: None
    )


def manifests(ops) -> dict[str, dict]:
    return {
        op.path: json.loads(op.content)
        for op in ops
        if isinstance(op, WriteFile) and op.kind == "manifest"
    }


def test_expectations_cover_the_table():
    assert set(EXPECTED) == set(SYSTEM) == {b.name for b in BROWSERS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detected_browser_gets_manifest_in_application_support(request_for, name):
    detect, paths = EXPECTED[name]
    found = manifests(make_mac(detect).plan(request_for()))
    assert sorted(found) == sorted(paths)
    key = "allowed_extensions" if FAMILY[name] == "firefox" else "allowed_origins"
    value = [FIREFOX_ID] if FAMILY[name] == "firefox" else [ORIGIN]
    for content in found.values():
        assert content == {
            "name": HOST,
            "description": "DS Export helper: saves DeepSeek images with their prompts embedded",
            "path": LAUNCHER,
            "type": "stdio",
            key: value,
        }


@pytest.mark.parametrize("name", sorted(SYSTEM))
def test_system_install_uses_library_folders(request_for, name):
    ops = make_mac().plan(request_for(browsers=(name,), system=True))
    assert sorted(manifests(ops)) == sorted(f"{d}/{M}" for d in SYSTEM[name])
    (content,) = {json.dumps(c) for c in manifests(ops).values()}
    assert json.loads(content)["path"] == "/Library/Application Support/dsexport/dsexport-host"


def test_launcher_survives_the_space_in_application_support(request_for):
    python = f"{AS}/dsexport/venv/bin/python"
    ops = make_mac().plan(request_for(python=python))
    assert ops[0].path == LAUNCHER and ops[1] == MakeExecutable(LAUNCHER)
    # A shebang cannot hold a space, so the interpreter is exec'd from /bin/sh, quoted.
    assert ops[0].content.startswith("#!/bin/sh\n")
    assert f"exec '{python}' -c '{LAUNCH_CODE}' \"$@\"" in ops[0].content


def test_no_sandbox_rows_on_macos(request_for):
    rows = make_mac(f"{HOME}/snap/chromium", f"{HOME}/.var/app/org.chromium.Chromium").survey(
        request_for()
    )
    assert all(r.sandbox is None for r in rows)


def test_state_file_in_application_support(request_for):
    assert str(make_mac().state_path()) == f"{AS}/dsexport/install-state.json"
