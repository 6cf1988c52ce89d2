"""Every example a person can copy — the README's shell and Python blocks and every command's
``--help`` examples — runs as written on a seeded library and exits 0, so none can drift.

Each example runs in bash, in a fresh copy of one seeded HOME and working folder: a catalog with
conversations, Chinese and English prompts, images captured today and on 2026-11-25, A1111,
ComfyUI and NovelAI folders, the files the examples name (cat.png, meta.json, *.webp, …), and
the helper registered with the browsers, as after the README's set-up.
Only what cannot run here as written is adapted, each case named in ``ADAPT`` with its reason.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsexport.cli import COMMANDS
from imagebytes import make_image

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

CONVERSATION = "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90"
"""The id the examples use (its first 8 characters), as `dsexport list` would print it."""

SAVES = [
    # (conversation, title, prompt, model, captured_at or None for now, file)
    (CONVERSATION, "猫咪插画与流程图 🎨", "a cat in a red scarf", "janus-pro", None, "cat"),
    (CONVERSATION, "猫咪插画与流程图 🎨", "一只戴着红色围巾的熊猫", "janus-pro", None, "panda"),
    ("b41d0c33-0000-4000-8000-00000000d065", "Dogs", "a dog", "flux", "2026-11-25T09:14", "dog"),
]

ADAPT: dict[str, tuple[str, str]] = {
    # example (as written) → (what runs instead, why)
    "sudo dsexport install --system": (
        "dsexport install --system --dry-run",
        "writes /etc or the registry for every user; the plan is checked instead",
    ),
}
"""Examples that cannot run here as written. Anything else that fails is a broken example."""


def readme_examples() -> list[str]:
    """Commands in the README's ```sh blocks that call dsexport (install/test commands aside)."""
    examples = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text("utf-8"), re.S):
        for line in block.splitlines():
            command = _strip_comment(line)
            if re.search(r"(^|\|\s*)(sudo\s+)?dsexport\s", command + " "):
                examples.append(command)
    return examples


def readme_python() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S)


def help_examples() -> list[tuple[str, str]]:
    """(command, example) for every line under "examples:" in every command's --help."""
    out = []
    for name in COMMANDS:
        if name == "host":
            continue
        text = _dsexport("HOME", name, "--help")
        if "examples:" not in text:
            continue
        for line in text.split("examples:", 1)[1].splitlines()[1:]:
            if not line.startswith("  ") or not line.strip():
                break
            out.append((name, _strip_comment(line)))
    return out


def _dsexport(home: str, *args: str) -> str:
    env = {**os.environ, "HOME": os.environ.get(home, "/nonexistent")}
    proc = subprocess.run(
        [sys.executable, "-m", "dsexport", *args], capture_output=True, text=True, env=env
    )
    return proc.stdout


def _strip_comment(line: str) -> str:
    """``dsexport x  # what it does`` or ``dsexport x      what it does`` → ``dsexport x``."""
    line = re.split(r"\s+#\s", line.strip(), maxsplit=1)[0]
    return re.split(r"\s{3,}", line, maxsplit=1)[0].strip()


# --- the seeded library ------------------------------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(
        HOME=str(home),
        XDG_PICTURES_DIR=str(home / "Pictures"),
        XDG_DOWNLOAD_DIR=str(home / "Downloads"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _png(path: Path, text: dict[str, str], shade: int) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (shade, 90, 160)).save(path, pnginfo=info)


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("examples-seed")
    home, work = base / "home", base / "work"
    home.mkdir()
    work.mkdir()
    env = _env(home)
    for n, (cid, title, prompt, model, captured, name) in enumerate(SAVES):
        src = work / f"{name}.png"
        src.write_bytes(make_image("png", size=(30 + n, 20)))
        meta = {"conversation_id": cid, "conversation_title": title, "model": model}
        meta["page_url"] = f"https://chat.deepseek.com/a/chat/s/{cid}"
        if captured:
            meta["captured_at"] = captured
        (base / "meta.json").write_text(json.dumps(meta), "utf-8")
        argv = [
            "dsexport",
            "save",
            str(src),
            "--prompt",
            prompt,
            "--meta-json",
            str(base / "meta.json"),
        ]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
    # As if saved on the day the README's inspect example names (folders are named by save day).
    saved = list((home / "Pictures" / "DeepSeek").glob("*/*a dog*.png"))
    day = home / "Pictures" / "DeepSeek" / "2026-11-25"
    day.mkdir()
    for path in saved:
        shutil.copy2(path, day / path.name)
    assert list(day.glob("*.png"))
    (work / "meta.json").write_text(json.dumps({"prompt": "a cat", "seed": 7}), "utf-8")
    for name in ("cat", "dog"):
        (work / f"{name}.webp").write_bytes(make_image("webp", size=(24, 24)))
    a1111 = "a castle, 山水画\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 40x30"
    _png(home / "stable-diffusion-webui/outputs/txt2img/00001.png", {"parameters": a1111}, 10)
    graph = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 5, "positive": ["6", 0]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "neon city"}},
    }
    _png(home / "ComfyUI/output/ComfyUI_00001_.png", {"prompt": json.dumps(graph)}, 20)
    novelai = {"prompt": "1girl, panda hoodie", "seed": 3, "steps": 28, "scale": 5.0}
    _png(
        work / "novelai-001.png",
        {"Software": "NovelAI", "Description": novelai["prompt"], "Comment": json.dumps(novelai)},
        30,
    )
    (home / "Downloads" / "deepseek").mkdir(parents=True)
    # Registered with the browsers, as after the README's set-up (doctor's example checks it).
    proc = subprocess.run(["dsexport", "install"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return base


def run_example(
    seed: Path, tmp_path: Path, command: str, *, program: str = ""
) -> subprocess.CompletedProcess:
    """Run ``program command`` in a copy of the seeded HOME; only ``command`` is the example, so
    only it has its paths moved (``program`` may itself live under /tmp, as in a CI clone)."""
    base = tmp_path / "copy"
    shutil.copytree(seed, base, symlinks=True)
    home, work = base / "home", base / "work"
    # Example paths outside HOME (/tmp/…, /mnt/…) go to this test's own folder.
    command = command.replace("/tmp/", f"{base}/tmp/").replace("/mnt/", f"{base}/mnt/")
    (base / "tmp").mkdir()
    (base / "mnt" / "backup" / "Pictures").mkdir(parents=True)
    argv = ["bash", "-c", f"set -o pipefail; {program}{command}"]
    if re.search(r"dsexport demo\b.*--show", command):
        if shutil.which("xvfb-run") is None:
            if os.environ.get("CI") == "true":
                pytest.fail("xvfb-run is missing (Debian package xvfb); CI must run this")
            pytest.skip("xvfb-run is missing: --show needs a display")
        argv = ["xvfb-run", "-a", *argv]
    return subprocess.run(
        argv, cwd=work, env=_env(home), capture_output=True, text=True, timeout=300, check=False
    )


def _id(example: str) -> str:
    return example[:70]


@pytest.mark.parametrize("example", readme_examples(), ids=_id)
def test_readme_example_runs(seed, tmp_path, example):
    command = ADAPT.get(example, (example,))[0]
    proc = run_example(seed, tmp_path, command)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize(("name", "example"), help_examples(), ids=lambda v: _id(str(v)))
def test_help_example_runs(seed, tmp_path, name, example):
    assert re.search(rf"\bdsexport {re.escape(name)}\b", example), "an example of another command"
    command = ADAPT.get(example, (example,))[0]
    proc = run_example(seed, tmp_path, command)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize("block", readme_python(), ids=lambda b: _id(b.strip().splitlines()[0]))
def test_readme_python_runs(seed, tmp_path, block):
    """The API example, with the names it leaves to the reader defined first."""
    script = "png_bytes = open('cat.png', 'rb').read()\n" + block.replace("/data/out", "/tmp/out")
    proc = run_example(
        seed, tmp_path, f" - <<'PYEOF'\n{script}\nPYEOF", program=shlex.quote(sys.executable)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_every_example_is_collected():
    """The collectors see the examples at all (a changed README layout must not empty them)."""
    assert len(readme_examples()) >= 15
    assert len(help_examples()) >= 25
    assert readme_python()
    assert all(example in {e for _, e in help_examples()} for example in ADAPT)
