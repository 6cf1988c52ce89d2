"""End to end in Debian's Firefox ESR: "Export conversation" through the real extension and host,
then the archive's page opened from disk: every image shown, no request but its own files."""

from __future__ import annotations

import time

import pytest
from export_checks import check_images, check_rich, check_turns, open_archive
from test_firefox import _call, _extension_page, _open_conversation, _scan, _tab_id
from test_firefox import firefox as firefox_browser

pytestmark = pytest.mark.e2e

# The fixture lives in test_firefox.py; bound here under its own name so pytest finds it.
firefox = firefox_browser


def _quiet(server, *, settle: float = 0.5, limit: float = 10) -> int:
    """The server's hit count once no request has arrived for ``settle`` seconds."""
    deadline = time.monotonic() + limit
    count = len(server.hits)
    while time.monotonic() < deadline:
        time.sleep(settle)
        if len(server.hits) == count:
            break
        count = len(server.hits)
    return count


def open_from_disk(ff, page_path, server) -> list[dict]:
    hits = _quiet(server)
    tab = ff.new_tab(page_path.as_uri())
    deadline = time.monotonic() + 20
    while True:
        state = ff.evaluate(
            tab,
            "({ready: document.readyState, images: [...document.images].map((i) => ({src:"
            " i.currentSrc, ok: i.complete, w: i.naturalWidth})), scripts: document.scripts.length,"
            " loaded: performance.getEntriesByType('resource').map((e) => e.name)})",
        )
        done = state["ready"] == "complete" and all(i["ok"] for i in state["images"])
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    folder = page_path.parent.as_uri()
    assert state["scripts"] == 0
    assert all(url.startswith(folder + "/") for url in state["loaded"]), state["loaded"]
    for image in state["images"]:
        assert image["ok"] and image["w"] > 0, image
        assert image["src"].startswith(folder + "/images/"), image
    assert len(server.hits) == hits, f"opening the archive reached a server: {server.hits[hits:]}"
    return state["images"]


@pytest.mark.parametrize("key", ["main", "rich", "share", "long"])
def test_firefox_export_holds_every_turn_and_image(
    firefox, sample, sample_server, dirs, tmp_path, key
):
    conv = sample.conversation(key)
    conversation_tab = _open_conversation(firefox, conv.page_url)
    page = _extension_page(firefox)
    tab_id = _tab_id(firefox, page, conv.page_url)
    _scan(firefox, page, tab_id, len(conv.expected))

    result = _call(firefox, page, "exportConversation", {"tabId": tab_id, "options": {}})

    assert result["failed"] == [], result["failed"]
    assert result["turns"] == len(conv.turns) and result["from"] == "api"
    archive = open_archive(result, dirs.output, tmp_path)
    check_turns(archive, conv)
    check_images(archive, conv, result)
    if key == "rich":
        check_rich(archive)
    # The conversation's own tab may still load a lazy image after the export's sweep restored
    # its scroll position; closed, its requests cannot be mistaken for the archive's.
    firefox.cmd("browsingContext.close", context=conversation_tab)
    shown = open_from_disk(firefox, archive.folder / "conversation.html", sample_server)
    assert len(shown) >= len(conv.expected) + len(conv.diagrams)
