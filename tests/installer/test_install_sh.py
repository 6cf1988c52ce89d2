"""install/install.sh for real: a private venv under XDG_DATA_HOME, pip-installing a copy of this
repository, registering the browsers in a temporary HOME; re-running upgrades in place; the helper
it registered answers a ping; --uninstall removes the registration and the venv.

Needs the network (or a pip cache) for Pillow, piexif and platformdirs. Takes ~30 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from installer_helpers import HOST, ORIGIN, isolated_env, ping_as_browser

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="install.sh is for Linux and macOS"),
]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """The parts of the repository pip and the installer need, copied so the test can change a
    file and watch the re-run pick it up (and so pip's build files stay out of the checkout)."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("host", "extension", "install"):
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, copy / name)
    return copy


def run_install_sh(repo: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", str(repo / "install" / "install.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result


def test_install_sh_creates_venv_registers_upgrades_and_uninstalls(tmp_path, repo_copy):
    # Arrange: a home with Chromium's config folder; python3 >= 3.10 first on PATH.
    home = tmp_path / "home"
    (home / ".config/chromium").mkdir(parents=True)
    (home / ".mozilla").mkdir()
    env = isolated_env(home, tmp_path / "runtime")
    data = tmp_path / "data"
    env["XDG_DATA_HOME"] = str(data)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    venv = data / "dsexport" / "venv"

    # Act: first run
    first = run_install_sh(repo_copy, env, "--no-demo")

    # Assert: venv, registration pointing into it, the manual step with the exact path
    assert (venv / "bin" / "dsexport").exists()
    manifest_path = home / f".config/chromium/NativeMessagingHosts/{HOST}.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["allowed_origins"] == [ORIGIN]
    launcher = Path(manifest["path"]).read_text()
    assert f"exec {venv}/bin/python -m dsexport host" in launcher
    record = json.loads((data / "dsexport" / "install-state.json").read_text())
    assert record["extension_dir"] == str(repo_copy / "extension")
    assert "Demo skipped (--no-demo)." in first.stdout
    assert "Load unpacked" in first.stdout and f"      {repo_copy / 'extension'}\n" in first.stdout
    reply = ping_as_browser(str(manifest_path), env=env)
    assert reply["id"] == 1 and reply["ok"] is True

    # Act: change the source, run again
    init = repo_copy / "host" / "dsexport" / "__init__.py"
    init.write_text(init.read_text() + "\nUPGRADE_MARKER = 1\n")
    run_install_sh(repo_copy, env, "--no-demo")

    # Assert: the same venv now has the changed code
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import dsexport; print(dsexport.UPGRADE_MARKER)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.stdout.strip() == "1", probe.stderr

    # Act + Assert: unregister Firefox only; Chromium's helper and the venv stay
    firefox_manifest = home / f".mozilla/native-messaging-hosts/{HOST}.json"
    assert firefox_manifest.is_file()
    partial = run_install_sh(repo_copy, env, "--uninstall", "--browser", "firefox")
    assert not firefox_manifest.exists()
    assert "other browsers still use it" in partial.stdout
    assert ping_as_browser(str(manifest_path), env=env)["ok"] is True

    # Act: uninstall
    gone = run_install_sh(repo_copy, env, "--uninstall")

    # Assert: registration, launcher, record and venv are gone
    assert "removed" in gone.stdout
    assert not manifest_path.exists()
    assert not (home / ".config/chromium/NativeMessagingHosts").exists()
    assert not (data / "dsexport").exists()
