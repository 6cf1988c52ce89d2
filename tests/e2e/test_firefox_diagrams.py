"""End to end in Firefox: background/scan.js's ``scanTab(tabId, {complete: true})`` finds the
Mermaid diagram in an early, unmounted turn of the "long" sample conversation by sweeping the
virtual list, and puts the user's scroll position back (test_chromium_diagrams.py for Chromium)."""

from __future__ import annotations

import json

import pytest
from test_firefox import _extension_page, _open_conversation, _scan, _tab_id, firefox  # noqa: F401

pytestmark = pytest.mark.e2e

SCROLL_TOP = "document.querySelector('.ds-virtual-list').scrollTop"


def _scan_js(ff, page: str, tab_id: int, options: dict):
    return ff.evaluate(
        page,
        "import('/background/scan.js').then((m) => "
        f"m.scanTab({json.dumps(tab_id)}, {json.dumps(options)}))",
    )


def test_firefox_complete_scan_finds_the_early_diagram_and_restores_the_scroll(firefox, sample):  # noqa: F811
    conv = sample.conversation("long")
    [diagram] = conv.diagrams
    assert not diagram.mounted
    tab = _open_conversation(firefox, conv.page_url)
    top = firefox.evaluate(tab, SCROLL_TOP)
    assert top > 0, "the conversation opens at its latest turn"
    page = _extension_page(firefox)
    tab_id = _tab_id(firefox, page, conv.page_url)
    # A background tab gets no scroll events (no rendering): keep the conversation in front.
    firefox.cmd("browsingContext.activate", context=tab)
    _scan(firefox, page, tab_id, len(conv.expected))

    plain = _scan_js(firefox, page, tab_id, {})
    assert [i for i in plain["images"] if i["kind"] == "diagram"] == []
    assert plain["pendingDiagramTurns"] == [diagram.turn_index]
    assert firefox.evaluate(tab, SCROLL_TOP) == top

    complete = _scan_js(firefox, page, tab_id, {"complete": True})

    found = [i for i in complete["images"] if i["kind"] == "diagram"]
    assert [i["turnIndex"] for i in found] == [diagram.turn_index], complete["health"]
    assert "回家" in found[0]["svg"]
    assert complete["pendingDiagramTurns"] == []
    assert firefox.evaluate(tab, SCROLL_TOP) == top
