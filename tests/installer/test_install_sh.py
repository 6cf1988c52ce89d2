"""install/install.sh for real: a private venv under XDG_DATA_HOME, pip-installing a copy of this
repository, registering the browsers in a temporary HOME with the extension the package carries
(copied to the data folder, the folder a person loads); re-running upgrades in place; the helper
it registered answers a ping; --uninstall removes the registration, the copy and the venv.

A machine with no browser: with --no-browser, or with no Chromium package apt could install, the
script says so, says what to install and exits with status 3 (DS Export itself is installed); on
Debian it installs Debian's Chromium, registers it and runs the demo with it. None of this
removes or hides anything on this machine: the browsers are kept off the script's PATH (a folder
of links to the tools it needs), and the Debian test runs only where Debian's chromium package is
already installed, so apt-get finds nothing to do.

Needs the network (or a pip cache) for Pillow and piexif. Each run takes ~10-30 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from installer_helpers import (
    HOST,
    ORIGIN,
    chromium_manifest,
    isolated_env,
    ping_as_browser,
    user_data_dir,
)

from dsexport.cli.host import LAUNCH_CODE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="install.sh is for Linux and macOS"),
]

REPO = Path(__file__).resolve().parents[2]
#: What pip needs to build DS Export from a source tree (setup.py copies extension/ into it).
SOURCE_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
#: The programs install.sh (and pip, and Python's venv) call, for a PATH without any browser.
TOOLS = (
    "bash",
    "sh",
    "env",
    "dirname",
    "uname",
    "sed",
    "grep",
    "mkdir",
    "rm",
    "rmdir",
    "readlink",
    "id",
    "ln",
    "cat",
    "ls",
    "cp",
    "mv",
    "chmod",
    "tr",
    "head",
    "tail",
    "sort",
    "uniq",
)
EXIT_NO_BROWSER = 3


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """The parts of the repository pip and the installer need, copied so the test can change a
    file and watch the re-run pick it up (and so pip's build files stay out of the checkout)."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("host", "extension", "install"):
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, copy / name)
    return copy


def run_install_sh(repo: Path, env: dict, *args: str, expect: int = 0):
    result = subprocess.run(
        ["bash", str(repo / "install" / "install.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == expect, f"{result.stdout}\n{result.stderr}"
    return result


def path_without_browsers(tmp_path: Path) -> str:
    """A PATH of links to the tools install.sh needs and this Python, and nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)
    for browser in ("chromium", "chromium-browser", "google-chrome", "firefox", "firefox-esr"):
        assert not (bin_dir / browser).exists()
    return str(bin_dir)


def test_install_sh_creates_venv_registers_upgrades_and_uninstalls(tmp_path, repo_copy):
    # Arrange: a home with Chromium's config folder; python3 >= 3.10 first on PATH.
    home = tmp_path / "home"
    manifest_path = chromium_manifest(home)
    manifest_path.parent.parent.mkdir(parents=True)
    (home / ".mozilla").mkdir()
    env = isolated_env(home, tmp_path / "runtime")
    data = tmp_path / "data"
    env["XDG_DATA_HOME"] = str(data)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    venv = data / "dsexport" / "venv"
    copy = data / "dsexport" / "extension"

    # Act: first run
    first = run_install_sh(repo_copy, env, "--no-demo")

    # Assert: venv, registration pointing into it, the extension copied, the manual step with
    # the exact folder
    assert (venv / "bin" / "dsexport").exists()
    manifest = json.loads(manifest_path.read_text())
    assert manifest["allowed_origins"] == [ORIGIN]
    launcher = Path(manifest["path"]).read_text()
    assert f"exec {venv}/bin/python -c '{LAUNCH_CODE}'" in launcher
    record = json.loads((data / "dsexport" / "install-state.json").read_text())
    assert record["extension_dir"] == str(copy)
    assert (copy / "manifest.json").read_bytes() == (
        repo_copy / "extension/manifest.json"
    ).read_bytes()
    assert "Demo skipped (--no-demo)." in first.stdout
    assert "Load unpacked" in first.stdout and f"      {copy}\n" in first.stdout
    reply = ping_as_browser(str(manifest_path), env=env)
    assert reply["id"] == 1 and reply["ok"] is True

    # Act: change the source (host and extension), run again
    init = repo_copy / "host" / "dsexport" / "__init__.py"
    init.write_text(init.read_text() + "\nUPGRADE_MARKER = 1\n")
    css = repo_copy / "extension" / "popup" / "popup.css"
    css.write_text(css.read_text() + "\n/* upgrade marker */\n")
    run_install_sh(repo_copy, env, "--no-demo")

    # Assert: the same venv now has the changed code, the same folder the changed extension
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import dsexport; print(dsexport.UPGRADE_MARKER)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.stdout.strip() == "1", probe.stderr
    assert (copy / "popup" / "popup.css").read_text().endswith("/* upgrade marker */\n")

    # Act + Assert: unregister Firefox only; Chromium's helper and the venv stay (Linux: where
    # the ~/.mozilla folder made above is Firefox's)
    if sys.platform.startswith("linux"):
        firefox_manifest = home / f".mozilla/native-messaging-hosts/{HOST}.json"
        assert firefox_manifest.is_file()
        partial = run_install_sh(repo_copy, env, "--uninstall", "--browser", "firefox")
        assert not firefox_manifest.exists()
        assert "other browsers still use it" in partial.stdout
        assert ping_as_browser(str(manifest_path), env=env)["ok"] is True

    # Act: uninstall
    gone = run_install_sh(repo_copy, env, "--uninstall")

    # Assert: registration, launcher, extension copy, record and venv are gone
    assert "removed" in gone.stdout
    assert not manifest_path.exists()
    assert not manifest_path.parent.exists()
    assert not (data / "dsexport").exists()


def _empty_home_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = isolated_env(home, tmp_path / "runtime")
    env["PATH"] = path_without_browsers(tmp_path)
    return env


def _assert_installed_but_unregistered(result, home: Path, env: dict) -> None:
    out = result.stdout
    assert "Installed DS Export" in out
    assert "no supported browser was found" in out.lower()
    assert "run this script again" in out
    assert "failed" not in (out + result.stderr).lower()
    dsexport = user_data_dir(home, env) / "venv" / "bin" / "dsexport"
    doctor = subprocess.run(
        [str(dsexport), "doctor"], capture_output=True, text=True, env=env, check=False
    )
    assert doctor.returncode == 1 and "no supported browser found" in doctor.stdout
    assert not [p for p in home.rglob("NativeMessagingHosts")]


#: macOS finds browsers in /Applications, which a test cannot hide (GitHub's macOS runners have
#: Chrome and Firefox there); the no-browser paths are checked on Linux.
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="browsers are found by PATH here")


@linux_only
def test_no_browser_with_no_browser_flag_says_what_to_install(tmp_path, repo_copy):
    env = _empty_home_env(tmp_path)
    result = run_install_sh(repo_copy, env, "--no-browser", expect=EXIT_NO_BROWSER)
    assert "Not installing a browser (--no-browser)." in result.stdout
    assert "Installing Debian's Chromium" not in result.stdout
    _assert_installed_but_unregistered(result, Path(env["HOME"]), env)


@linux_only
def test_no_browser_and_no_package_manager_says_what_to_install(tmp_path, repo_copy):
    # No apt-get on PATH: like a distribution this script cannot install a browser on.
    env = _empty_home_env(tmp_path)
    result = run_install_sh(repo_copy, env, "--no-demo", expect=EXIT_NO_BROWSER)
    assert "Google Chrome" in result.stdout and "Firefox" in result.stdout
    _assert_installed_but_unregistered(result, Path(env["HOME"]), env)


def _debian_chromium_installed() -> bool:
    if not Path("/etc/debian_version").exists() or not shutil.which("dpkg-query"):
        return False
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "chromium"], capture_output=True, text=True
    )
    return status.stdout.endswith("installed") and os.geteuid() == 0


@pytest.mark.e2e
@pytest.mark.skipif(
    not _debian_chromium_installed(),
    reason="the Debian path runs where Debian's chromium is installed and we are root "
    "(apt-get then changes nothing on this machine)",
)
def test_no_browser_on_debian_installs_chromium_registers_it_and_runs_the_demo(tmp_path, repo_copy):
    env = _empty_home_env(tmp_path)
    for tool in ("apt-get", "apt-cache", "dpkg", "dpkg-query", "sudo"):
        found = shutil.which(tool)
        if found:
            (Path(env["PATH"]) / tool).symlink_to(found)
    home = Path(env["HOME"])

    result = run_install_sh(repo_copy, env)

    out = result.stdout
    assert "installing Debian's Chromium" in out, out
    assert "did not work" not in out
    manifest = chromium_manifest(home)
    assert json.loads(manifest.read_text())["allowed_origins"] == [ORIGIN]
    assert "Running the demo" in out and "/usr/bin/chromium" in out
    assert " saved, 0 failed" in out, out + result.stderr
    assert f"      {home}/.local/share/dsexport/extension\n" in out
