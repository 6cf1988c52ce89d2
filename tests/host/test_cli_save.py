"""``dsexport save / inspect / convert`` run as real subprocesses."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from imagebytes import image_stream, make_image
from testutil import run_dsexport


def run(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return run_dsexport(home, *args, stdin=stdin, text=False, timeout=60)


def test_save_prints_where_each_file_went(home, tmp_path):
    src = tmp_path / "cat.png"
    src.write_bytes(make_image("png"))
    out = tmp_path / "out"
    proc = run(home, "save", str(src), "--prompt", "一只猫 🐱", "--seed", "42", "--out", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    line = proc.stdout.decode().strip()
    saved = Path(line.split(" -> ", 1)[1])
    assert saved.is_relative_to(out) and saved.exists()
    assert image_stream("png", saved.read_bytes()) == image_stream("png", src.read_bytes())

    proc = run(home, "inspect", "--json", str(saved))
    assert proc.returncode == 0, proc.stderr.decode()
    info = json.loads(proc.stdout)
    assert info["metadata"]["prompt"] == "一只猫 🐱" and info["metadata"]["seed"] == 42
    assert info["metadata"]["extra"]["file_name"] == "cat.png"


def test_save_refuses_non_images_with_nonzero_exit(home, tmp_path):
    page = tmp_path / "error.png"
    page.write_text("<html><body>404 Not Found</body></html>")
    out = tmp_path / "out"
    proc = run(home, "save", str(page), "--prompt", "x", "--out", str(out))
    assert proc.returncode != 0
    assert "refused" in proc.stderr.decode()
    assert not out.exists() or not any(out.rglob("*.*"))


def test_save_reads_base64_from_stdin(home, tmp_path):
    data = make_image("webp")
    out = tmp_path / "out"
    proc = run(
        home,
        "save",
        "--base64",
        "-",
        "--prompt",
        "from stdin",
        "--out",
        str(out),
        "--json",
        stdin=base64.b64encode(data),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["ok"] and result["format"] == "webp"
    assert Path(result["path"]).exists()


def test_save_with_meta_json_and_format(home, tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(make_image("png"))
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"prompt": "from json", "model": "flux", "steps": 20}))
    out = tmp_path / "out"
    proc = run(
        home,
        "save",
        str(src),
        "--meta-json",
        str(meta),
        "--format",
        "jpeg",
        "--out",
        str(out),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout)
    assert result["format"] == "jpeg"
    proc = run(home, "inspect", "--json", result["path"])
    meta_out = json.loads(proc.stdout)["metadata"]
    assert (meta_out["prompt"], meta_out["model"], meta_out["steps"]) == ("from json", "flux", 20)


def test_convert_carries_metadata_over(home, tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(make_image("png"))
    out = tmp_path / "out"
    proc = run(home, "save", str(src), "--prompt", "carry me", "--out", str(out), "--json")
    saved = json.loads(proc.stdout)["path"]
    conv = tmp_path / "conv"
    proc = run(home, "convert", saved, "--format", "webp", "--out", str(conv))
    assert proc.returncode == 0, proc.stderr.decode()
    target = Path(proc.stdout.decode().split(" -> ", 1)[1].split("\n")[0].strip())
    assert target.suffix == ".webp"
    proc = run(home, "inspect", "--json", str(target))
    assert json.loads(proc.stdout)["metadata"]["prompt"] == "carry me"


def test_help_lists_every_command_with_an_example(home):
    proc = run(home, "--help")
    assert proc.returncode == 0
    from dsexport.cli import COMMANDS

    for name in ("save", "inspect", "convert"):
        assert name in proc.stdout.decode()
        sub = run(home, name, "--help")
        assert sub.returncode == 0 and "example" in sub.stdout.decode().lower()
    assert set(COMMANDS) >= {"save", "inspect", "convert", "config", "host"}
