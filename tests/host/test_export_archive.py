"""The archive writer (``dsexport.export.archive``): whole or nothing, never outside the output
folder, memory independent of the conversation's length."""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dsexport.catalog import open_catalog
from dsexport.errors import BadConfig, ForbiddenPath
from dsexport.export.archive import archive_relpath, write_export
from dsexport.export.model import (
    Conversation,
    ExportOptions,
    options_from_dict,
    turn_from_dict,
)
from dsexport.model import Metadata
from imagebytes import make_image

NOW = datetime(2026, 11, 25, 9, 14, 3, tzinfo=timezone.utc)


@pytest.fixture
def catalog(tmp_path):
    with open_catalog(tmp_path / "catalog.sqlite3") as cat:
        yield cat


def saved(root: Path, catalog, name: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_image("png"))
    catalog.add(
        path=str(path),
        sha256="ab" * 32,
        format="png",
        size=path.stat().st_size,
        metadata=Metadata(prompt=name),
    )
    return path


def test_names_follow_the_template_fields_of_image_names():
    conv = Conversation(id="abc-1", title="猫咪: 插画/流程图", model="deepseek-r1")
    assert archive_relpath(conv, "画猫", ExportOptions(), NOW) == "2026-11-25/猫咪_ 插画_流程图.zip"
    opts = options_from_dict({"template": "{model}/{conversation_id}_{prompt:10}_{hash:6}"})
    assert archive_relpath(conv, "画一只猫 please", opts, NOW).startswith(
        "deepseek-r1/abc-1_画一只猫 pleas_"
    )
    folder = options_from_dict({"container": "folder", "template": "a/{conversation}.zip"})
    assert archive_relpath(conv, None, folder, NOW) == "a/猫咪_ 插画_流程图"
    for outside in ("../../{conversation}.zip", "/etc/{conversation}", "C:/x/{conversation}"):
        with pytest.raises(BadConfig):
            options_from_dict({"template": outside})


def test_a_failure_while_writing_leaves_nothing(tmp_path, catalog):
    root = tmp_path / "out"
    image = saved(root, catalog, "cat.png")

    def turns():
        yield turn_from_dict(
            {"role": "user", "text": "x", "images": [{"kind": "uploaded", "path": str(image)}]}
        )
        raise OSError("disk went away")

    for container in ("zip", "folder"):
        before = sorted(p.relative_to(root) for p in root.rglob("*"))
        with pytest.raises(OSError):
            write_export(
                Conversation(title="t"),
                turns,
                options_from_dict({"container": container}),
                output_root=root,
                catalog=catalog,
                now=NOW,
            )
        after = sorted(p.relative_to(root) for p in root.rglob("*"))
        # Only the dated folder the name template asked for may have appeared, empty.
        assert [p for p in after if p not in before and p != Path("2026-11-25")] == []
        assert not any(p.name.startswith(".dsexport-") for p in root.rglob("*"))


def test_a_link_in_the_output_folder_is_never_followed(tmp_path, catalog):
    root = tmp_path / "out"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "2026-11-25").symlink_to(elsewhere)
    turns = [turn_from_dict({"role": "user", "text": "x"})]
    for container in ("zip", "folder"):
        with pytest.raises(ForbiddenPath):
            write_export(
                Conversation(title="t"),
                lambda: iter(turns),
                options_from_dict({"container": container}),
                output_root=root,
                catalog=catalog,
                now=NOW,
            )
    assert list(elsewhere.iterdir()) == []


def test_the_same_image_twice_is_stored_once_and_same_names_are_numbered(tmp_path, catalog):
    root = tmp_path / "out"
    a = saved(root, catalog, "a/cat.png")
    b = saved(root, catalog, "b/cat.png")
    turns = [
        turn_from_dict(
            {"role": "user", "text": "1", "images": [{"kind": "uploaded", "path": str(a)}]}
        ),
        turn_from_dict(
            {
                "role": "assistant",
                "text": "2",
                "images": [
                    {"kind": "generated", "path": str(a), "url": "https://x.example/a.png"},
                    {"kind": "generated", "path": str(b), "url": "https://x.example/b.png"},
                ],
            }
        ),
    ]
    result = write_export(
        Conversation(title="t"),
        lambda: iter(turns),
        ExportOptions(),
        output_root=root,
        catalog=catalog,
        now=NOW,
    )
    with zipfile.ZipFile(result.path) as zf:
        assert [n for n in zf.namelist() if n.startswith("images/")] == [
            "images/cat.png",
            "images/cat (2).png",
        ]
        assert zf.read("images/cat (2).png") == b.read_bytes()
        data = json.loads(zf.read("conversation.json"))
    assert [i["file"] for i in data["turns"][1]["images"]] == [
        "images/cat.png",
        "images/cat (2).png",
    ]
    assert result.images == 2


def test_memory_stays_flat_for_a_long_conversation(tmp_path, catalog):
    """300 turns of 20 KB each (6 MB of text, 18 MB across the three documents) are written
    while Python holds a fraction of that: one turn at a time, drained into the file as it goes
    (twice the turns, about the same peak)."""
    root = tmp_path / "out"
    root.mkdir()
    paragraph = ("这是一段很长的回答，包含 **Markdown** 和 `code`。 " * 40 + "\n\n") * 8
    record = {"text": paragraph[:20_000], "reasoning": "想" * 2000}

    def peak_for(count: int) -> tuple[int, str]:
        def turns():
            for i in range(count):
                yield turn_from_dict({**record, "role": "user" if i % 2 == 0 else "assistant"})

        tracemalloc.start()
        try:
            result = write_export(
                Conversation(title=f"long {count}"),
                turns,
                ExportOptions(),
                output_root=root,
                catalog=catalog,
                now=NOW,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.turns == count
        return peak, result.path

    small, _ = peak_for(150)
    peak, path = peak_for(300)
    with zipfile.ZipFile(path) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
    assert sizes["conversation.md"] > 6_000_000 and sizes["conversation.json"] > 6_000_000
    assert peak < 2_000_000, f"peak {peak / 1e6:.1f} MB for 6 MB of text"
    assert peak < small * 1.5, f"peak {peak / 1e6:.1f} MB; {small / 1e6:.1f} MB at half the turns"


@pytest.mark.parametrize("container", ["zip", "folder"])
def test_a_fifo_swapped_in_after_the_layout_is_left_out_not_waited_on(tmp_path, catalog, container):
    # The layout checks every image first; a FIFO put in a file's place after that check must
    # not hang the export (opening a FIFO for reading waits for a writer that never comes).
    root = tmp_path / "out"
    a = saved(root, catalog, "a/cat.png")
    b = saved(root, catalog, "b/dog.png")
    turns = [
        turn_from_dict(
            {
                "role": "assistant",
                "text": "two",
                "images": [
                    {"kind": "generated", "path": str(a), "url": "https://x.example/a.png"},
                    {"kind": "generated", "path": str(b), "url": "https://x.example/b.png"},
                ],
            }
        )
    ]
    calls = []

    def read_turns():
        calls.append(1)
        if len(calls) == 2:  # the layout is built; the archive is being written
            b.unlink()
            os.mkfifo(b)
        return iter(turns)

    outcome = {}

    def export():
        # A catalog connection belongs to its thread: the export opens its own, as the host does.
        with open_catalog(tmp_path / "catalog.sqlite3") as own:
            outcome["result"] = write_export(
                Conversation(title="t"),
                read_turns,
                options_from_dict({"container": container}),
                output_root=root,
                catalog=own,
                now=NOW,
            )

    worker = threading.Thread(target=export, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():
        with open(b, "wb"):  # a writer, so the stuck open returns and the test ends
            pass
        pytest.fail("the export waited on a FIFO")
    result = outcome["result"]
    assert len(calls) >= 2
    assert result.images == 1 and result.missing == (str(b),)
    if container == "zip":
        with zipfile.ZipFile(result.path) as zf:
            images = {n: zf.read(n) for n in zf.namelist() if n.startswith("images/")}
    else:
        folder = Path(result.path) / "images"
        images = {f"images/{f.name}": f.read_bytes() for f in folder.iterdir()}
    # Left out whole: no empty or partial file under its name, the other image intact.
    assert images == {"images/cat.png": a.read_bytes()}
