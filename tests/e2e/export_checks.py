"""Checks on an archive "Export conversation" wrote, shared by the Chromium and Firefox tests:
every turn's text (page data → conversation.json, .md and .html), every image byte for byte as
saved and, for rasters, with the served original's image data untouched."""

from __future__ import annotations

import html
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from e2e_support import RASTER, assert_same_image_data, match_original, sniff

from dsexport.demo.sample import Conversation
from dsexport.demo.sample_export import markdown_of


@dataclass
class Archive:
    folder: Path
    """Where the archive's files are (the folder itself, or the ZIP extracted)."""
    data: dict
    page: str
    text: str


def open_archive(result: dict, output: Path, tmp: Path) -> Archive:
    path = Path(result["path"])
    assert output in path.parents, f"{path} is not in the output folder {output}"
    if result["container"] == "zip":
        assert path.suffix == ".zip" and path.is_file()
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
            assert names[:3] == ["conversation.html", "conversation.md", "conversation.json"]
            assert all(n in names[:3] or n.startswith("images/") for n in names), names
            folder = tmp / path.stem
            zf.extractall(folder)
    else:
        folder = path
        assert path.is_dir()
    return Archive(
        folder,
        json.loads((folder / "conversation.json").read_text("utf-8")),
        (folder / "conversation.html").read_text("utf-8"),
        (folder / "conversation.md").read_text("utf-8"),
    )


def page_text(page: str) -> str:
    """What a person reads on the page: tags out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def check_turns(archive: Archive, conv: Conversation) -> None:
    """Every turn the page shows, in order, with its text, in all three documents."""
    turns = archive.data["turns"]
    assert archive.data["schema"] == "dsexport.conversation/1"
    assert archive.data["conversation"]["title"] == conv.title
    assert [t["role"] for t in turns] == [t.role for t in conv.turns]
    shown = page_text(archive.page)
    for record, turn in zip(turns, conv.turns, strict=True):
        if turn.role == "user":
            assert record["text"] == turn.text
            assert turn.text in shown, turn.text[:60]
            for line in turn.text.split("\n"):
                assert line.replace("<", "\\<").replace("&", "\\&") in archive.text, line
        else:
            assert record["text"].startswith(markdown_of(turn)), record["text"][:80]
            for paragraph in turn.text.split("\n\n"):
                if not re.search(r"[#|*`$\\<\[]|^\d+\.", paragraph):  # plain prose shows as is
                    assert paragraph in shown, paragraph
            if turn.think:
                assert record["reasoning"]["text"] == turn.think
                assert turn.think in shown
    assert archive.data["turn_count"] == len(conv.turns)


def check_images(archive: Archive, conv: Conversation, result: dict) -> dict[str, Path]:
    """Every image the conversation shows is in images/, as the very file that was saved; the
    rasters are the served originals with only metadata added. Returns url → archive file."""
    files = (
        sorted((archive.folder / "images").iterdir())
        if (archive.folder / "images").exists()
        else []
    )
    expected = conv.expected + conv.diagrams
    assert result["images"] == len(files) == len(expected), (result, [f.name for f in files])
    found: dict[str, Path] = {}
    for f in files:
        data = f.read_bytes()
        if sniff(data) in RASTER:
            original = match_original(data, conv.expected)
            assert original is not None and original.url not in found, f.name
            assert_same_image_data(data, original)
            found[original.url] = f
        else:
            assert sniff(data) == "svg", f.name
            found.setdefault("svg:", f)
    assert set(found) == {e.url for e in expected}
    records = [i for t in archive.data["turns"] for i in t["images"] if i["file"]]
    assert sorted(r["file"] for r in records) == sorted(f"images/{f.name}" for f in files)
    return found


def check_rich(archive: Archive) -> None:
    """The rich sample: reasoning folded, sources linked, table, code language, math as TeX,
    the diagram's SVG through <img>, the edited prompt's old branch absent, raw HTML as text."""
    page, text, data = archive.page, archive.text, archive.data
    assert "旧问题" not in page and "旧回答" not in text and "旧" not in json.dumps(data["turns"])
    answer = data["turns"][1]
    assert [s["url"] for s in answer["sources"]] == [
        "https://example.com/watercolor",
        "https://example.org/cats-in-art",
    ]
    assert '<details class="reasoning"><summary>' in page
    assert '<sup class="cite"><a href="https://example.com/watercolor"' in page
    assert "<table>" in page and '<td style="text-align:right">5 分钟</td>' in page
    assert '<figcaption>python</figcaption><pre><code class="language-python">' in page
    assert '<code class="math">C = \\alpha A + (1-\\alpha) B</code>' in page
    assert re.search(r'<figure class="diagram"><img src="images/[^"]+\.svg"', page)
    assert "&lt;script&gt;alert(&quot;raw HTML stays text&quot;)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "水彩讲究**水分控制**[[1]](https://example.com/watercolor)" in text
    assert "本回答由 AI 生成" in answer["text"]
