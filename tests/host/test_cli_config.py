"""`dsexport config …` run as a real subprocess with a temporary HOME (dsexport/cli/config.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _command() -> list[str]:
    # The installed console script next to this interpreter; `python -m dsexport` (same entry
    # point) when the package was not installed with its script.
    script = Path(sys.executable).parent / "dsexport"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dsexport"]


def dsexport(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_command(), "config", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def config_file(home):
    return home / ".config" / "dsexport" / "config.json"


def test_path_prints_the_config_file(home):
    result = dsexport("path")
    assert result.returncode == 0
    assert result.stdout.strip() == str(config_file(home))


def test_list_shows_defaults(home):
    result = dsexport("list")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" = ", 1) for line in result.stdout.splitlines())
    assert lines["output_dir"] == str(home / "Pictures" / "DeepSeek")
    assert lines["format"] == "original"
    assert lines["auto_capture"] == "true"
    assert lines["sidecars"] == ""


def test_list_json(home):
    result = dsexport("list", "--json")
    data = json.loads(result.stdout)
    assert data["quality"] == 90
    assert data["embed_fields"][0] == "prompt"


def test_set_then_get_round_trips_through_the_file(home):
    assert dsexport("set", "quality", "75").stdout.strip() == "quality = 75"
    assert dsexport("set", "sidecars", "json,txt").returncode == 0
    assert dsexport("set", "embed_fields", '["prompt", "seed"]').returncode == 0
    assert dsexport("set", "auto_capture", "false").returncode == 0
    assert dsexport("get", "quality").stdout.strip() == "75"
    assert dsexport("get", "sidecars").stdout.strip() == "json,txt"
    assert json.loads(dsexport("get", "embed_fields", "--json").stdout) == ["prompt", "seed"]
    assert dsexport("get", "auto_capture").stdout.strip() == "false"
    stored = json.loads(config_file(home).read_text())
    assert stored == {
        "quality": 75,
        "sidecars": ["json", "txt"],
        "embed_fields": ["prompt", "seed"],
        "auto_capture": False,
    }


def test_set_output_dir_creates_it(home):
    target = home / "AI images"
    result = dsexport("set", "output_dir", str(target))
    assert result.returncode == 0, result.stderr
    assert target.is_dir()
    assert dsexport("get", "output_dir").stdout.strip() == str(target)


def test_set_a_chinese_template(home):
    result = dsexport("set", "name_template", "{date}/对话_{conversation}/{prompt:20}")
    assert result.returncode == 0, result.stderr
    assert json.loads(config_file(home).read_text(encoding="utf-8"))["name_template"] == (
        "{date}/对话_{conversation}/{prompt:20}"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "quality", "500"), "1 to 100"),
        (("set", "quality", "high"), "whole number"),
        (("set", "format", "bmp"), "one of"),
        (("set", "name_template", "{prompt}.{ext}"), "extension"),
        (("set", "output_dir", "relative"), "absolute"),
        (("set", "nope", "1"), "unknown config key"),
        (("get", "nope"), "unknown config key"),
        (("reset", "nope"), "unknown config key"),
        (("reset",), "KEY or --all"),
    ],
)
def test_invalid_input_fails_with_one_clear_line(home, args, message):
    result = dsexport(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("dsexport: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not config_file(home).exists()


def test_reset_key_and_all(home):
    dsexport("set", "quality", "10")
    dsexport("set", "format", "png")
    assert dsexport("reset", "quality").stdout.strip() == "quality = 90"
    assert dsexport("get", "format").stdout.strip() == "png"
    assert dsexport("reset", "--all").returncode == 0
    assert dsexport("get", "format").stdout.strip() == "original"


def test_a_broken_file_is_reported_and_reset_all_repairs_it(home):
    config_file(home).parent.mkdir(parents=True)
    config_file(home).write_text("{oops")
    result = dsexport("list")
    assert result.returncode == 1
    assert str(config_file(home)) in result.stderr
    assert "dsexport config reset --all" in result.stderr
    assert dsexport("reset", "--all").returncode == 0
    assert dsexport("list").returncode == 0


def test_help_ends_with_examples(home):
    result = subprocess.run(
        [*_command(), "config", "--help"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert "dsexport config set sidecars json,txt" in result.stdout


def test_no_action_prints_help_and_exits_2(home):
    result = dsexport()
    assert result.returncode == 2
    assert "ACTION" in result.stdout
