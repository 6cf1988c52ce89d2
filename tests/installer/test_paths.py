"""``dsexport.paths`` gives the folders platformdirs gives for ``PlatformDirs("dsexport",
appauthor=False)``, on the OS the test runs on (CI runs it on Linux, macOS and Windows), for a
plain home, XDG overrides and a localised ``user-dirs.dirs``.

platformdirs is no longer imported by DS Export (it cost the native host more than the rest of a
ping); it stays in the test extra as the reference these rules were written from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testutil import require_module

PROBE = """
import json, sys
import platformdirs
from dsexport import paths
d = platformdirs.PlatformDirs("dsexport", appauthor=False)
print(json.dumps({
    "config": [paths.config_dir_str(), d.user_config_dir],
    "data": [paths.data_dir_str(), d.user_data_dir],
    "cache": [paths.cache_dir_str(), d.user_cache_dir],
    "log": [paths.log_dir_str(), d.user_log_dir],
    "pictures": [paths.pictures_dir_str(), platformdirs.user_pictures_dir()],
    "downloads": [paths.downloads_dir_str(), platformdirs.user_downloads_dir()],
    "path_types": [type(paths.config_dir()).__name__, str(paths.default_output_dir())],
}))
"""


def _answers(env: dict[str, str]) -> dict:
    import json

    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "WIN_PD_"))}
    env["HOME"] = str(home)
    if sys.platform == "win32":
        env["USERPROFILE"] = str(home)
    return env


def _assert_same(answers: dict) -> None:
    for name, (ours, theirs) in answers.items():
        if name != "path_types":
            assert os.path.normcase(ours) == os.path.normcase(theirs), name


@pytest.fixture(autouse=True)
def _platformdirs():
    require_module("platformdirs")


def test_plain_home_matches_platformdirs(tmp_path):
    answers = _answers(_clean_env(tmp_path))
    _assert_same(answers)
    kind, output = answers["path_types"]
    assert kind.endswith("Path")
    assert output == os.path.join(answers["pictures"][0], "DeepSeek")


@pytest.mark.skipif(sys.platform == "win32", reason="XDG variables are read on Linux and macOS")
def test_xdg_overrides_match_platformdirs(tmp_path):
    env = _clean_env(tmp_path / "home")
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    env["XDG_PICTURES_DIR"] = str(tmp_path / "pics")
    env["XDG_DOWNLOAD_DIR"] = "relative/is/ignored"
    answers = _answers(env)
    _assert_same(answers)
    assert answers["config"][0] == str(tmp_path / "config" / "dsexport")
    assert answers["pictures"][0] == str(tmp_path / "pics")


@pytest.mark.skipif(sys.platform != "linux", reason="user-dirs.dirs is read on Linux")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('XDG_PICTURES_DIR="$HOME/图片"', "{home}/图片"),
        ('XDG_PICTURES_DIR="/data/my \\"pics\\""', '/data/my "pics"'),
        ("XDG_PICTURES_DIR=$HOME/Bilder", "{home}/Bilder"),
        ('XDG_PICTURES_DIR="relative/Pictures"', "{home}/Pictures"),
        ('XDG_PICTURES_DIR="$HOME/first"\nXDG_PICTURES_DIR="$HOME/second"', "{home}/second"),
        ('  XDG_PICTURES_DIR = "$HOME/spaced"  # comment', "{home}/spaced"),
    ],
)
def test_user_dirs_file_matches_platformdirs(tmp_path, line, expected):
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "user-dirs.dirs").write_text(
        f'# written by xdg-user-dirs-update\nXDG_DOWNLOAD_DIR="$HOME/下载"\n{line}\n'
    )
    answers = _answers(_clean_env(home))
    _assert_same(answers)
    assert answers["pictures"][0] == expected.format(home=home)
    assert answers["downloads"][0] == f"{home}/下载"


@pytest.mark.skipif(sys.platform != "linux", reason="user-dirs.dirs is read on Linux")
def test_user_dirs_file_others_can_write_is_ignored(tmp_path):
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    dirs = home / ".config" / "user-dirs.dirs"
    dirs.write_text('XDG_PICTURES_DIR="/elsewhere"\n')
    dirs.chmod(0o666)
    answers = _answers(_clean_env(home))
    _assert_same(answers)
    assert answers["pictures"][0] == str(home / "Pictures")


@pytest.mark.skipif(sys.platform != "win32", reason="Windows folders")
def test_windows_overrides_match_platformdirs(tmp_path):
    env = _clean_env(tmp_path / "home")
    env["WIN_PD_OVERRIDE_LOCAL_APPDATA"] = str(tmp_path / "Local")
    env["WIN_PD_OVERRIDE_MYPICTURES"] = str(tmp_path / "Bilder")
    answers = _answers(env)
    _assert_same(answers)
    assert answers["data"][0] == str(tmp_path / "Local" / "dsexport")
