"""``dsexport demo`` as a user runs it: the bundled sample, the system Chromium, the real extension
and host; every image saved and reported with its prompt."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import (
    EXTENSION_DIR,
    embedded_prompts,
    match_original,
    require_tool,
    saved_files,
    sniff,
)

pytestmark = pytest.mark.e2e


def _demo(*args: str, env=None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dsexport", "demo", "--extension-dir", str(EXTENSION_DIR), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=env,
        check=False,
    )


def test_demo_saves_every_sample_image_and_prints_where_with_its_prompt(home, tmp_path, sample):
    require_tool("chromium")
    exe = require_tool("exiftool")
    out = tmp_path / "demo-out"

    proc = _demo("--out", str(out))

    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    conv = sample.conversation("main")
    files = saved_files(out)
    raster = [p for p in files if sniff(p.read_bytes()) != "svg"]
    matched = {p: match_original(p.read_bytes(), conv.expected) for p in raster}
    assert all(matched.values()), f"not sample images: {[p for p, m in matched.items() if not m]}"
    assert {m.url for m in matched.values()} == {e.url for e in conv.expected}
    embedded_prompts({p: m.prompts for p, m in matched.items()}, exe)
    for path in files:  # each file is printed, followed by its prompt
        assert str(path) in proc.stdout, f"{path} not reported:\n{proc.stdout}"
    assert len(re.findall(r"^    prompt: \S", proc.stdout, re.M)) == len(files)
    assert not (Path(os.environ["HOME"]) / "Pictures" / "DeepSeek").exists(), "--out ignored"


def test_demo_without_chromium_says_how_to_get_it(home, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = dict(os.environ, PATH=str(bin_dir))

    proc = _demo(env=env, timeout=60)

    assert proc.returncode == 3, proc.stderr
    assert "no Chromium-family browser found" in proc.stderr
    assert "--browser PATH" in proc.stderr
