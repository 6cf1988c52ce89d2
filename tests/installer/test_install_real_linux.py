"""The Linux install for real: ``dsexport install`` into a temporary HOME, every registered
launcher started the way Chromium / Firefox start it and pinged, then ``dsexport uninstall``
leaves the home exactly as it was."""

from __future__ import annotations

import json
import sys

import pytest
from installer_helpers import (
    CHROMIUM_ID,
    FIREFOX_ID,
    HOST,
    ORIGIN,
    dsexport,
    isolated_env,
    listing,
    ping_as_browser,
)

from dsexport.cli.host import LAUNCH_CODE
from testutil import skip_unless_ci

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux install locations")

M = f"{HOST}.json"


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    for folder in (".config/chromium", ".config/google-chrome", ".mozilla"):
        (h / folder).mkdir(parents=True)
    return h


@pytest.fixture
def env(home, tmp_path):
    return isolated_env(home, tmp_path / "runtime")


def test_install_ping_uninstall_leaves_nothing_behind(home, env):
    # Arrange
    before = listing(home)

    # Act: install
    result = dsexport("install", env=env)

    # Assert: every browser with a config folder is registered and says so
    assert result.returncode == 0, result.stderr
    for label in ("Chromium: registered", "Google Chrome: registered", "Firefox: registered"):
        assert label in result.stdout
    record = json.loads((home / ".local/share/dsexport/install-state.json").read_text())
    assert record["allowed_callers"] == [ORIGIN, FIREFOX_ID]
    assert record["extension_dir"].endswith("/extension")
    manifests = [f["path"] for f in record["files"] if f["kind"] == "manifest"]
    assert {
        str(home / f".config/chromium/NativeMessagingHosts/{M}"),
        str(home / f".config/google-chrome/NativeMessagingHosts/{M}"),
        str(home / f".mozilla/native-messaging-hosts/{M}"),
    } <= set(manifests)
    launcher = (home / ".local/share/dsexport/dsexport-host").read_text()
    assert f"exec {sys.executable} -c '{LAUNCH_CODE}'" in launcher

    # Act + Assert: each manifest's path, started as the browser starts it, answers a ping
    for manifest in manifests:
        reply = ping_as_browser(manifest, env=env)
        assert reply["id"] == 1 and reply["ok"] is True, reply
        assert reply["result"]["version"]

    # Act: uninstall, twice
    first = dsexport("uninstall", env=env)
    after_first = listing(home)
    second = dsexport("uninstall", env=env)

    # Assert: nothing left, and the second run is a no-op
    assert first.returncode == 0, first.stderr
    assert after_first == before
    assert second.returncode == 0 and "Nothing to uninstall" in second.stdout
    assert listing(home) == before


def test_dry_run_prints_everything_and_changes_nothing(home, env):
    before = listing(home)
    result = dsexport("install", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert listing(home) == before
    for path in (
        home / f".config/chromium/NativeMessagingHosts/{M}",
        home / f".mozilla/native-messaging-hosts/{M}",
        home / ".local/share/dsexport/dsexport-host",
        home / ".local/share/dsexport/install-state.json",
    ):
        assert str(path) in result.stdout
    assert f'"chrome-extension://{CHROMIUM_ID}/"' in result.stdout
    assert f'"{FIREFOX_ID}"' in result.stdout


def test_user_data_dir_registers_that_profile_only(home, env, tmp_path):
    profile = tmp_path / "profile"
    result = dsexport("install", "--user-data-dir", str(profile), env=env)
    assert result.returncode == 0, result.stderr
    manifest = profile / "NativeMessagingHosts" / M
    assert json.loads(manifest.read_text())["allowed_origins"] == [ORIGIN]
    assert not (home / ".config/chromium/NativeMessagingHosts").exists()
    assert ping_as_browser(str(manifest), env=env)["ok"] is True
    assert dsexport("uninstall", env=env).returncode == 0
    assert not profile.exists()


def test_uninstall_leaves_a_manifest_someone_changed(home, env):
    assert dsexport("install", "--browser", "firefox", env=env).returncode == 0
    manifest = home / f".mozilla/native-messaging-hosts/{M}"
    manifest.write_text('{"name": "org.dsexport.host", "path": "/elsewhere"}\n')
    result = dsexport("uninstall", env=env)
    assert result.returncode == 0
    assert "LEFT IN PLACE" in result.stdout and str(manifest) in result.stdout
    assert manifest.exists()
    assert not (home / ".local/share/dsexport").exists()


def test_extra_extension_id_is_allowed(home, env):
    extra = "a" * 32
    assert (
        dsexport("install", "--browser", "chromium", "--extension-id", extra, env=env).returncode
        == 0
    )
    content = json.loads((home / f".config/chromium/NativeMessagingHosts/{M}").read_text())
    assert content["allowed_origins"] == [ORIGIN, f"chrome-extension://{extra}/"]
    record = json.loads((home / ".local/share/dsexport/install-state.json").read_text())
    assert f"chrome-extension://{extra}/" in record["allowed_callers"]


def test_bad_extension_id_is_refused(env):
    result = dsexport("install", "--extension-id", "NOT-AN-ID", env=env)
    assert result.returncode == 1 and "neither a Chromium ID" in result.stderr


def test_extension_dir_without_manifest_says_what_to_pass(env, tmp_path):
    result = dsexport("install", "--extension-dir", str(tmp_path), env=env)
    assert result.returncode == 1
    assert "--extension-dir" in result.stderr and "manifest.json" in result.stderr


def test_system_install_without_root_fails_clearly():
    """Run as an unprivileged user (``nobody`` via setpriv when the tests run as root)."""
    import os
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    # A world-readable sandbox: pytest's tmp_path is private to the test user.
    sandbox = Path(tempfile.mkdtemp(prefix="dsexport-nobody-"))
    try:
        os.chmod(sandbox, 0o777)
        host = Path(__file__).resolve().parents[2] / "host"
        env = {
            "HOME": str(sandbox),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(host),
        }
        prefix: list[str] = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if not setpriv:
                skip_unless_ci("running as root and setpriv is missing: cannot drop privileges")
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        for python in (sys.executable, "/usr/bin/python3"):
            probe = [
                *prefix,
                python,
                "-c",
                "import sys, dsexport; sys.exit(sys.version_info < (3, 10))",
            ]
            if subprocess.run(probe, env=env, capture_output=True, check=False).returncode == 0:
                break
        else:
            skip_unless_ci("no Python >= 3.10 with dsexport importable by an unprivileged user")
        result = subprocess.run(
            [*prefix, python, "-m", "dsexport", "install", "--system", "--browser", "chromium"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    assert result.returncode == 1, result.stdout
    assert "no permission to write in /" in result.stderr
    assert "sudo dsexport install --system" in result.stderr
    assert not Path("/etc/chromium/native-messaging-hosts/org.dsexport.host.json").exists()


def test_uninstall_one_browser_keeps_the_others_then_the_last_takes_everything(home, env):
    # Arrange: registered with Chromium, Chrome and Firefox
    before = listing(home)
    assert dsexport("install", env=env).returncode == 0
    firefox = home / f".mozilla/native-messaging-hosts/{M}"
    chromium = home / f".config/chromium/NativeMessagingHosts/{M}"
    chrome = home / f".config/google-chrome/NativeMessagingHosts/{M}"
    assert firefox.is_file() and chromium.is_file() and chrome.is_file()

    # Act: a dry run, then Firefox only
    dry = dsexport("uninstall", "--browser", "firefox", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert firefox.is_file()
    assert f"delete {firefox}" in dry.stdout and str(chromium) not in dry.stdout
    result = dsexport("uninstall", "--browser", "firefox", env=env)

    # Assert: Firefox's manifest and the folder made for it are gone; the others still answer
    assert result.returncode == 0, result.stderr
    assert "Unregistered DS Export from Firefox" in result.stdout
    assert not firefox.exists()
    assert not firefox.parent.exists(), "the folder install created for Firefox was left behind"
    assert (home / ".mozilla").is_dir(), "a folder the browser owns was removed"
    for manifest in (chromium, chrome):
        assert ping_as_browser(str(manifest), env=env)["ok"] is True
    record = json.loads((home / ".local/share/dsexport/install-state.json").read_text())
    assert "firefox" not in record["browsers"]
    assert all("firefox" not in f["browsers"] for f in record["files"])

    # Act + Assert: again is harmless; then the remaining two leave nothing behind
    again = dsexport("uninstall", "--browser", "firefox", env=env)
    assert again.returncode == 0 and "not registered with Firefox" in again.stdout
    last = dsexport("uninstall", "--browser", "chromium", "--browser", "chrome", env=env)
    assert last.returncode == 0, last.stderr
    assert "launcher went too" in last.stdout
    assert listing(home) == before
