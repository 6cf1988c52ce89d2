"""End to end in Chromium: "Export conversation" through the real extension, the real host and
the sample sites; then the archive's page opened from disk with the network off."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from e2e_support import REPO
from export_checks import check_images, check_rich, check_turns, open_archive

pytestmark = pytest.mark.e2e

#: The README's picture of an exported page (DSEXPORT_UPDATE_SCREENSHOTS=1 refreshes it).
DOCS_SHOTS = REPO / "docs" / "screenshots"


def open_offline(browser, page_path: Path, server, shot: Path | None = None) -> dict:
    """conversation.html from disk, the browser offline: every image shown, no request but the
    page's own files (and none reaching the sample sites)."""
    context = browser.context
    context.set_offline(True)
    hits_before = len(server.hits)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(page_path.as_uri(), wait_until="load")
        images = page.evaluate(
            "() => [...document.images].map((i) => ({src: i.currentSrc, ok: i.complete,"
            " w: i.naturalWidth}))"
        )
        scripts = page.evaluate("() => document.scripts.length")
        if shot is not None:
            page.set_viewport_size({"width": 900, "height": 1000})
            page.evaluate(
                "() => document.querySelectorAll('details').forEach((d) => (d.open = true))"
            )
            page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
        context.set_offline(False)
    folder = page_path.parent.as_uri()
    assert all(url.startswith(folder + "/") for url in requests), requests
    assert len(server.hits) == hits_before
    assert scripts == 0
    for image in images:
        assert image["ok"] and image["w"] > 0, image
        assert image["src"].startswith(folder + "/images/"), image
    return {"images": images, "requests": requests}


@pytest.mark.parametrize("key", ["main", "long", "rich", "share", "extras"])
def test_export_holds_every_turn_and_image(chromium, sample, dirs, tmp_path, key):
    conv = sample.conversation(key)
    browser = chromium()
    tab = browser.open(key)
    browser.scan(tab, min_images=len(conv.expected) + len([d for d in conv.diagrams if d.mounted]))

    result = browser.call("exportConversation", tab.id, {})

    assert result["failed"] == [], result["failed"]
    assert result["turns"] == len(conv.turns) and result["from"] == "api"
    archive = open_archive(result, dirs.output, tmp_path)
    check_turns(archive, conv)
    check_images(archive, conv, result)
    if key == "rich":
        check_rich(archive)
    shots = DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shot = shots / "export-page.png" if key == "rich" else None
    shown = open_offline(browser, archive.folder / "conversation.html", browser.server, shot)
    assert len(shown["images"]) >= len(conv.expected) + len(conv.diagrams)


def test_a_folder_without_reasoning_or_sources_and_broken_images(chromium, sample, dirs, tmp_path):
    browser = chromium()
    tab = browser.open("rich")
    browser.scan(tab, min_images=len(sample.conversation("rich").expected))
    options = {
        "container": "folder",
        "reasoning": False,
        "sources": False,
        "template": "exports/{conversation_id}",
    }

    result = browser.call("exportConversation", tab.id, options)

    folder = Path(result["path"])
    assert folder == dirs.output / "exports" / sample.conversation("rich").id and folder.is_dir()
    archive = open_archive(result, dirs.output, tmp_path)
    assert all(t["reasoning"] is None and t["sources"] == [] for t in archive.data["turns"])
    assert '<details class="reasoning">' not in archive.page
    assert "example.com/watercolor" not in archive.page
    open_offline(browser, folder / "conversation.html", browser.server)

    broken = sample.conversation("broken")
    tab = browser.open("broken")
    browser.scan(tab, min_images=len(broken.expected))
    result = browser.call("exportConversation", tab.id, {})
    assert len(result["failed"]) == len(broken.broken) == 2
    archive = open_archive(result, dirs.output, tmp_path)
    check_images(archive, broken, result)
    for gen in broken.broken:
        assert gen.url.replace("&", "&amp;") in archive.page  # linked, not shown
    assert archive.page.count("Image not saved") == 2
    # The same export again: a new archive beside the first, never a replacement.
    again = browser.call("exportConversation", tab.id, {})
    assert again["path"] != result["path"] and Path(result["path"]).is_file()
    with zipfile.ZipFile(again["path"]) as zf:
        assert zf.testzip() is None
