"""Export a conversation through a real ``dsexport host`` subprocess: save its images, send the
turns in parts, commit; then read the archive back as a person (and a script) would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from native_client import Host, b64

from dsexport.export.markdown import href
from imagebytes import make_image

CONV = {
    "id": "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90",
    "title": "猫咪 / 插画: 流程图 🎨",
    "url": "https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90",
    "kind": "chat",
    "model": "deepseek-chat",
    "created_at": 1789300000.123,
}


@pytest.fixture
def host(home: Path):
    with Host(home) as h:
        yield h


def output_dir(home: Path) -> Path:
    return home / "Pictures" / "DeepSeek"


def save(host, prompt: str, size=(12, 10), fmt="png") -> dict:
    return host.result(
        "save",
        image={"data": b64(make_image(fmt, size=size))},
        metadata={
            "prompt": prompt,
            "conversation_id": CONV["id"],
            "conversation_title": CONV["title"],
        },
        options={"source": "toolbar"},
    )


def turns_for(upload: dict, generated: dict) -> list[dict]:
    return [
        {
            "role": "user",
            "text": "请描述这张图 <b>x</b> 🐱",
            "time": 1789300000.0,
            "files": [{"name": "cat.png", "size": 100, "is_image": True}],
            "images": [{"kind": "uploaded", "path": upload["path"], "file_name": "cat.png"}],
        },
        {
            "role": "assistant",
            "text": (
                "这是图[citation:1]：\n\n![水彩猫](https://image.pollinations.ai/prompt/cat?seed=42)"
                "\n\n| a | b |\n|---|---|\n| 1 | 2 |"
            ),
            "time": 1789300060.0,
            "reasoning": "先想想",
            "reasoning_seconds": 2,
            "sources": [{"index": 1, "url": "https://example.com/a", "title": "Example"}],
            "images": [
                {
                    "kind": "generated",
                    "path": generated["path"],
                    "url": "https://image.pollinations.ai/prompt/cat?seed=42",
                }
            ],
        },
    ]


def export(host, turns: list[dict], *, parts: int = 1, **options) -> dict:
    begun = host.result("export_begin", conversation=CONV, options=options)
    export_id = begun["export_id"]
    assert len(export_id) == 32 and begun["max_turns_per_part"] >= 1
    size = -(-len(turns) // parts)
    for i in range(0, len(turns), size):
        got = host.result("export_turns", export_id=export_id, turns=turns[i : i + size])
        assert got["received"] == min(i + size, len(turns))
    return host.result("export_commit", export_id=export_id)


def test_a_conversation_becomes_one_zip_with_its_saved_images(home, host):
    upload = save(host, "请描述这张图")
    generated = save(host, "a watercolor cat", size=(20, 14))
    result = export(host, turns_for(upload, generated), parts=2)

    path = Path(result["path"])
    assert path.parent.parent == output_dir(home) and path.suffix == ".zip"
    assert path.name == "猫咪 _ 插画_ 流程图 🎨.zip"  # the template's {conversation}, made safe
    assert result == {
        "path": str(path),
        "container": "zip",
        "turns": 2,
        "images": 2,
        "bytes": path.stat().st_size,
        "missing": 0,
    }
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[:3] == ["conversation.html", "conversation.md", "conversation.json"]
        for saved in (upload, generated):
            member = "images/" + os.path.basename(saved["path"])
            assert zf.read(member) == Path(saved["path"]).read_bytes()
        page = zf.read("conversation.html").decode()
        text = zf.read("conversation.md").decode()
        data = json.loads(zf.read("conversation.json"))
    assert "请描述这张图 &lt;b&gt;x&lt;/b&gt; 🐱" in page
    assert f'<img src="{href("images/" + os.path.basename(generated["path"]))}"' in page
    assert "<table>" in page and "先想想" in page
    assert f"![水彩猫]({href('images/' + os.path.basename(generated['path']))})" in text
    assert "这是图[[1]](https://example.com/a)" in text
    assert data["schema"] == "dsexport.conversation/1"
    assert data["conversation"]["title"] == CONV["title"]
    assert data["conversation"]["created_at"] == "2026-09-13T11:46:40+00:00"
    assert [t["role"] for t in data["turns"]] == ["user", "assistant"]
    assert data["turns"][1]["reasoning"] == {"text": "先想想", "seconds": 2.0}
    assert data["turns"][1]["images"][0]["file"] == "images/" + os.path.basename(generated["path"])
    assert data["turns"][1]["images"][0]["sha256"] == generated["sha256"]


def test_the_catalog_lists_the_archive(home, host):
    upload = save(host, "请描述这张图")
    generated = save(host, "a watercolor cat", size=(20, 14))
    result = export(host, turns_for(upload, generated))
    env = {**os.environ, "HOME": str(home)}
    env = {k: v for k, v in env.items() if not k.startswith("XDG_")}
    out = subprocess.run(
        [sys.executable, "-m", "dsexport", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    groups = json.loads(out)
    group = next(g for g in groups if g["key"] == CONV["id"])
    assert group["count"] == 2
    assert [a["path"] for a in group["archives"]] == [result["path"]]
    assert group["archives"][0]["turns"] == 2 and group["archives"][0]["container"] == "zip"
    listing = subprocess.run(
        [sys.executable, "-m", "dsexport", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert f"archive: {result['path']}" in listing


def test_a_folder_export_and_a_second_export_never_overwrite(home, host):
    upload = save(host, "p")
    generated = save(host, "g", size=(20, 14))
    turns = turns_for(upload, generated)
    first = export(host, turns, container="folder", template="exports/{conversation_id}")
    second = export(host, turns, container="folder", template="exports/{conversation_id}")
    assert first["path"] == str(output_dir(home) / "exports" / CONV["id"])
    assert second["path"] == first["path"] + " (2)"
    folder = Path(first["path"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "conversation.html",
        "conversation.json",
        "conversation.md",
        "images",
    ]
    assert (folder / "images" / os.path.basename(upload["path"])).read_bytes() == Path(
        upload["path"]
    ).read_bytes()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".dsexport-")]


def test_paths_the_catalog_does_not_know_are_left_out(home, host, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(make_image("png"))
    upload = save(host, "p")
    turns = [
        {
            "role": "user",
            "text": "x",
            "images": [
                {"kind": "uploaded", "path": str(secret)},
                {"kind": "uploaded", "path": "/etc/passwd"},
                {"kind": "uploaded", "path": upload["path"]},
            ],
        }
    ]
    result = export(host, turns)
    assert result["images"] == 1 and result["missing"] == 2
    with zipfile.ZipFile(result["path"]) as zf:
        assert [n for n in zf.namelist() if n.startswith("images/")] == [
            "images/" + os.path.basename(upload["path"])
        ]


def test_bad_turns_are_refused_with_the_turn_named_and_the_export_stays_open(home, host):
    begun = host.result("export_begin", conversation=CONV)
    eid = begun["export_id"]
    host.result("export_turns", export_id=eid, turns=[{"role": "user", "text": "ok"}])
    err = host.error("export_turns", export_id=eid, turns=[{"role": "user"}, {"role": "robot"}])
    assert err["code"] == "bad_request" and "turn 3" in err["message"]
    err = host.error(
        "export_turns", export_id=eid, turns=[{"role": "user", "text": "x" * 1_000_001}]
    )
    assert err["code"] == "too_large"
    err = host.error("export_turns", export_id=eid, turns=[{"role": "user", "text": 5}])
    assert err["code"] == "bad_request"
    assert (
        host.result("export_turns", export_id=eid, turns=[{"role": "assistant"}])["received"] == 2
    )
    assert host.result("export_commit", export_id=eid)["turns"] == 2
    assert host.error("export_commit", export_id=eid)["code"] == "not_found"


def test_abort_deletes_what_was_kept_and_bad_options_are_refused(home, host):
    eid = host.result("export_begin", conversation=CONV)["export_id"]
    host.result("export_turns", export_id=eid, turns=[{"role": "user", "text": "秘密"}])
    spool = home / ".cache" / "dsexport" / "exports"
    assert len(list(spool.iterdir())) == 1
    assert host.result("export_abort", export_id=eid) == {}
    assert list(spool.iterdir()) == []
    assert host.error("export_turns", export_id=eid, turns=[])["code"] == "not_found"
    for options in ({"container": "tar"}, {"template": "{nope}"}, {"reasoning": "yes"}):
        assert host.error("export_begin", conversation=CONV, options=options)["code"] in (
            "bad_request",
            "bad_config",
        )
    assert host.error("export_begin", conversation={"id": "../etc"})["code"] == "bad_request"
    eid = host.result("export_begin", conversation=CONV)["export_id"]
    assert host.error("export_commit", export_id=eid)["code"] == "bad_request"  # no turns


def test_a_host_that_exits_leaves_no_spool_and_a_killed_ones_is_swept(home):
    spool = home / ".cache" / "dsexport" / "exports"
    with Host(home) as h:
        eid = h.result("export_begin", conversation=CONV)["export_id"]
        h.result("export_turns", export_id=eid, turns=[{"role": "user", "text": "秘密"}])
        assert h.close() == 0
    assert list(spool.iterdir()) == []
    with Host(home) as h:
        eid = h.result("export_begin", conversation=CONV)["export_id"]
        h.result("export_turns", export_id=eid, turns=[{"role": "user", "text": "秘密"}])
    # Killed (SIGKILL): nothing could clean up; the next host to begin an export does.
    assert len(list(spool.iterdir())) == 1
    with Host(home) as h:
        h.result("export_begin", conversation=CONV)
        assert len(list(spool.iterdir())) == 1  # only its own
