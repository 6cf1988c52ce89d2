"""``dsexport library``: the Library page's address for each browser the helper is registered
with, as a real subprocess after a real ``dsexport install``; Firefox's per-profile address read
from the profile's prefs.js."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dsexport.cli.library import firefox_uuid, page_query

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
CHROMIUM_PAGE = "chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/library/library.html"
UUID = "3a1f0c9e-6b2d-4e8f-9a7c-5d4b3e2f1a0b"


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home), "PATH": os.environ.get("PATH", "")}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "dsexport", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def firefox_profile(home: Path, name: str, uuids: dict | None) -> Path:
    profile = home / ".mozilla" / "firefox" / name
    profile.mkdir(parents=True)
    lines = ['user_pref("browser.startup.homepage", "about:blank");']
    if uuids is not None:
        value = json.dumps(json.dumps(uuids))
        lines.append(f'user_pref("extensions.webextensions.uuids", {value});')
    (profile / "prefs.js").write_text("\n".join(lines) + "\n")
    return profile


def test_not_registered_yet_says_so_and_still_gives_the_chromium_address(home):
    proc = run(home, "library", "red", "scarf")
    assert proc.returncode == 1
    assert "dsexport install" in proc.stdout
    assert f"{CHROMIUM_PAGE}?q=red+scarf" in proc.stdout


def test_every_registered_browser_gets_its_address(home):
    profile = home / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    install = run(
        home, "install", "--user-data-dir", str(profile), "--extension-dir", str(EXTENSION)
    )
    assert install.returncode == 0, install.stderr
    (home / ".mozilla").mkdir(exist_ok=True)
    assert (
        run(home, "install", "--browser", "firefox", "--extension-dir", str(EXTENSION)).returncode
        == 0
    )
    firefox_profile(home, "abc.default-esr", {"dsexport@dsexport.org": UUID, "x@y": "z"})
    firefox_profile(home, "def.other", None)

    proc = run(home, "library", "猫")
    assert proc.returncode == 0, proc.stderr
    assert f"Chromium profile {profile}: {CHROMIUM_PAGE}?q=%E7%8C%AB" in proc.stdout
    assert f"moz-extension://{UUID}/library/library.html?q=%E7%8C%AB" in proc.stdout
    assert "profile abc.default-esr" in proc.stdout

    as_json = json.loads(run(home, "library", "--json", "--browser", "firefox").stdout)
    assert [a["url"] for a in as_json] == [f"moz-extension://{UUID}/library/library.html"]


def test_firefox_before_the_extension_ran_gets_directions_not_an_address(home):
    (home / ".mozilla").mkdir()
    assert (
        run(home, "install", "--browser", "firefox", "--extension-dir", str(EXTENSION)).returncode
        == 0
    )
    firefox_profile(home, "abc.default", {"other@addon": UUID})
    proc = run(home, "library")
    assert proc.returncode == 1
    assert "toolbar button" in proc.stdout and "moz-extension" not in proc.stdout


def test_a_hostile_prefs_file_yields_no_address(tmp_path):
    for text in (
        'user_pref("extensions.webextensions.uuids",'
        ' "{\\"dsexport@dsexport.org\\":\\"../../x\\"}");',
        'user_pref("extensions.webextensions.uuids", "not json");',
        'user_pref("extensions.webextensions.uuids", "[1, 2]");',
        "\xff\xfe garbage",
    ):
        (tmp_path / "prefs.js").write_text(text, encoding="utf-8", errors="surrogateescape")
        assert firefox_uuid(tmp_path) is None
    assert page_query(["", " "]) == ""
    assert page_query(["a&b", "c"]) == "?q=a%26b+c"


def test_open_starts_the_browser_with_the_address(home, tmp_path):
    assert (
        run(home, "install", "--browser", "chromium", "--extension-dir", str(EXTENSION)).returncode
        == 0
    )
    # A `chromium` on PATH that records how it was started (the real one would open a window).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "started.txt"
    fake = bin_dir / "chromium"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    fake.chmod(0o755)
    env_path = f"{bin_dir}:{os.environ.get('PATH', '')}"
    proc = subprocess.run(
        [sys.executable, "-m", "dsexport", "library", "--open", "--browser", "chromium", "cat"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home), "PATH": env_path},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    import time

    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text().split() == [f"{CHROMIUM_PAGE}?q=cat"]
