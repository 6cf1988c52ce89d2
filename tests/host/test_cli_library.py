"""``dsexport search / list / stats / bundle / import / reindex / check`` as real subprocesses."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from imagebytes import make_image
from testutil import run_dsexport

COMMANDS = ("search", "list", "stats", "bundle", "import", "reindex", "check")


run = run_dsexport


def a1111_png(path: Path, prompt: str, seed: int) -> Path:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(
        "parameters", f"{prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}"
    )
    Image.new("RGB", (32, 24), (seed % 256, 10, 10)).save(path, pnginfo=info)
    return path


@pytest.fixture
def library(home, tmp_path):
    """Two saves through `dsexport save` (one conversation) and a folder of A1111 files."""
    for i, prompt in enumerate(["一只戴着红色围巾的猫", "a cat <b>in</b> a red scarf & hat"]):
        src = tmp_path / f"src{i}.png"
        src.write_bytes(make_image("png", size=(20 + i, 20)))
        meta = tmp_path / f"meta{i}.json"
        meta.write_text(
            json.dumps({"conversation_id": "conv-1", "conversation_title": "猫咪对话"}), "utf-8"
        )
        proc = run(home, "save", str(src), "--prompt", prompt, "--meta-json", str(meta))
        assert proc.returncode == 0, proc.stderr
    webui = tmp_path / "webui"
    webui.mkdir()
    for i in range(3):
        a1111_png(webui / f"{i:05d}.png", f"landscape number {i}, 山水画", i)
    return webui


@pytest.mark.parametrize("command", COMMANDS)
def test_help_ends_with_examples(home, command):
    proc = run(home, command, "--help")
    assert proc.returncode == 0
    assert "examples:\n  dsexport " + command in proc.stdout


def test_search_text_and_json(library, home):
    proc = run(home, "search", "围巾")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and Path(lines[0]).is_file()
    assert "«围巾»" in lines[1] and "猫咪对话" in lines[1]

    proc = run(home, "search", "red", "scarf", "--json")
    [hit] = json.loads(proc.stdout)
    assert hit["prompt"] == "a cat <b>in</b> a red scarf & hat" and hit["source"] == "cli"
    assert hit["conversation_id"] == "conv-1" and "«red»" in hit["snippet"]

    assert run(home, "search", "zebra").returncode == 1  # like grep: nothing found
    proc = run(home, "search", "cat", "--since", "sometime")
    assert proc.returncode == 1 and "cannot read the time" in proc.stderr
    assert json.loads(run(home, "search", "", "--since", "1d", "--json").stdout)
    assert json.loads(run(home, "search", "", "--until", "2000-01-01", "--json").stdout) == []


def test_import_then_search_list_stats(library, home):
    proc = run(home, "import", str(library), "--progress")
    assert proc.returncode == 0, proc.stderr
    assert "3 images found, 3 catalogued (a1111 3)" in proc.stdout
    assert "import [" in proc.stderr and "3/3 files" in proc.stderr

    hits = json.loads(run(home, "search", "山水", "--json").stdout)
    assert sorted(Path(h["path"]).name for h in hits) == ["00000.png", "00001.png", "00002.png"]

    groups = json.loads(run(home, "list", "--json").stdout)
    assert {g["key"]: g["count"] for g in groups} == {"conv-1": 2, None: 3}
    assert "猫咪对话" in run(home, "list").stdout
    days = json.loads(run(home, "list", "--by", "day", "--json").stdout)
    assert sum(d["count"] for d in days) == 5
    files = json.loads(run(home, "list", "--conversation", "conv-1", "--json").stdout)
    assert len(files) == 2

    stats = json.loads(run(home, "stats", "--json").stdout)
    assert stats["images"] == 5 and stats["conversations"] == 1
    assert stats["sources"] == {
        "cli": {"count": 2, "bytes": stats["sources"]["cli"]["bytes"]},
        "import": {"count": 3, "bytes": stats["sources"]["import"]["bytes"]},
    }
    assert "images:" in run(home, "stats").stdout


def test_bundle_a_conversation_and_a_query(library, home, tmp_path):
    out = tmp_path / "out" / "cats.zip"
    proc = run(home, "bundle", "--conversation", "conv-1", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["path"] == str(out) and result["count"] == 2
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("metadata.json"))
        page = zf.read("prompts.html").decode()
    # Oldest first, as the conversation went.
    assert [i["metadata"]["prompt"] for i in meta["images"]] == [
        "一只戴着红色围巾的猫",
        "a cat <b>in</b> a red scarf & hat",
    ]
    assert "&lt;b&gt;in&lt;/b&gt;" in page and "<b>in</b>" not in page

    proc = run(home, "bundle", "--query", "围巾", "-o", str(out))
    assert proc.returncode == 0 and "cats (2).zip (1 images" in proc.stdout
    proc = run(home, "bundle", "--query", "zebra", "-o", str(out))
    assert proc.returncode == 1 and "nothing to bundle" in proc.stderr
    assert run(home, "bundle", "-o", str(out)).returncode == 2


def test_reindex_and_check(library, home):
    data_dir = home / ".local" / "share" / "dsexport"
    before = json.loads(run(home, "search", "", "--json").stdout)
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (data_dir / name).unlink(missing_ok=True)
    assert run(home, "search", "围巾").returncode == 1

    proc = run(home, "reindex", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == 2
    after = json.loads(run(home, "search", "", "--json").stdout)
    assert sorted(h["path"] for h in after) == sorted(h["path"] for h in before)

    saved = Path(after[0]["path"])
    moved = saved.with_name("moved.png")
    saved.rename(moved)
    proc = run(home, "check", "--dry-run")
    assert proc.returncode == 1 and f"moved:   {saved} -> {moved}" in proc.stdout
    proc = run(home, "check", "--json")
    assert json.loads(proc.stdout)["moved"] == [{"from": str(saved), "to": str(moved)}]
    assert run(home, "check").returncode == 0
    assert str(moved) in run(home, "search", "").stdout


def test_readme_shows_every_library_command():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("### Library", 1)[1].split("\n## ", 1)[0]
    for command in COMMANDS:
        assert f"dsexport {command} " in section, command
