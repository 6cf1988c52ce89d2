"""End to end in Chromium: the popup's "Save as ZIP" (``saveTab`` with ``zip``) through the real
extension and the real host — the images are saved, then exactly those files are bundled."""

from __future__ import annotations

import html
import json
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_save_as_zip_bundles_exactly_the_saved_files(chromium, sample, dirs):
    conv = sample.conversation("main")
    browser = chromium()
    tab = browser.open("main")
    browser.scan(tab, min_images=len(conv.expected))

    summary = browser.call("saveTab", tab.id, {"zip": True})

    assert summary["failed"] == [], summary["failed"]
    archive = summary["zip"]
    assert "error" not in archive, archive
    path = Path(archive["path"])
    assert path.parent == dirs.output and path.suffix == ".zip" and path.is_file()
    assert archive["bytes"] == path.stat().st_size and archive["skipped"] == 0
    saved = [Path(s["path"]) for s in summary["saved"]]
    assert archive["count"] == len(set(saved))
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        doc = json.loads(zf.read("metadata.json"))
        page = zf.read("prompts.html").decode("utf-8")
        # Each image exactly as saved on disk.
        by_source = {item["path"]: item["file"] for item in doc["images"]}
        assert set(by_source) == {str(p) for p in saved}
        for source, member in by_source.items():
            assert zf.read(member) == Path(source).read_bytes()
    titles = {item["metadata"].get("conversation_title") for item in doc["images"]}
    assert titles == {conv.title}
    shown = html.unescape(page)
    for item in doc["images"]:
        prompt = item["metadata"].get("prompt")
        assert prompt and prompt in shown, prompt
