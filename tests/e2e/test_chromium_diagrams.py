"""End to end in Chromium: a Mermaid diagram in an early turn of the "long" sample conversation,
which the virtual list has not mounted when the page opens. Its rendered SVG exists only while the
turn is mounted, so the page's own data can only say *that* the turn has one
(``pendingDiagramTurns``); ``scanTab(tabId, {complete: true})`` then sweeps the list and puts the
user's scroll position back. The result must not depend on whether the user scrolled (issue 5)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from e2e_support import EXTENSION_ID, sniff

pytestmark = pytest.mark.e2e

SCROLL_TOP = "document.querySelector('.ds-virtual-list').scrollTop"
MOUNTED_MERMAID = "document.querySelectorAll('svg[id^=mermaid]').length"

# Runs in an extension page: background/scan.js itself, as the service worker would run it.
SCAN_JS = """async ([tabId, options]) => {
  const scan = await import(chrome.runtime.getURL('background/scan.js'));
  return await scan.scanTab(tabId, options);
}"""


def _early_diagram(conv):
    [diagram] = conv.diagrams
    assert not diagram.mounted, "the sample's diagram should start unmounted"
    return diagram


def _open_unscrolled(browser, conv):
    tab = browser.open("long")
    assert tab.page.evaluate(MOUNTED_MERMAID) == 0, "the early diagram should not be in the DOM"
    top = tab.page.evaluate(SCROLL_TOP)
    assert top > 0, "the conversation opens at its latest turn"
    return tab, top


def _diagrams(scan):
    return [item for item in scan["images"] if item["kind"] == "diagram"]


def test_complete_scan_sweeps_for_the_early_diagram_and_restores_the_scroll(chromium, sample):
    conv = sample.conversation("long")
    diagram = _early_diagram(conv)
    browser = chromium()
    tab, top = _open_unscrolled(browser, conv)
    runner = browser.extension_page(f"popup/popup.html?e2e-listener=1&id={EXTENSION_ID}")
    # A hidden tab gets no scroll events (no rendering): keep the conversation in front.
    tab.page.bring_to_front()

    # Without `complete` (the badge scan on page load) the page is never scrolled: the diagram
    # is only named as pending, from the page's own data.
    deadline = time.monotonic() + 20
    while True:
        plain = runner.evaluate(SCAN_JS, [tab.id, {}])
        if len(plain["images"]) >= len(conv.expected) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(plain["images"]) >= len(conv.expected), plain["health"]
    assert _diagrams(plain) == []
    assert plain["pendingDiagramTurns"] == [diagram.turn_index]
    assert tab.page.evaluate(SCROLL_TOP) == top

    complete = runner.evaluate(SCAN_JS, [tab.id, {"complete": True}])

    [found] = _diagrams(complete)
    assert found["turnIndex"] == diagram.turn_index
    assert "回家" in found["svg"] and found["svg"].lstrip().startswith("<svg")
    assert complete["pendingDiagramTurns"] == []
    # Every raster image is still there, and the page is where the user left it.
    assert len(complete["images"]) == len(plain["images"]) + 1
    assert tab.page.evaluate(SCROLL_TOP) == top
    assert tab.page.evaluate(MOUNTED_MERMAID) == 0


def test_service_worker_scan_tab_complete_finds_the_early_diagram(chromium, sample):
    """``globalThis.dsexport.scanTab`` (save.js) must pass ``{complete: true}`` on to scan.js."""
    conv = sample.conversation("long")
    diagram = _early_diagram(conv)
    browser = chromium()
    tab, top = _open_unscrolled(browser, conv)
    browser.scan(tab, min_images=len(conv.expected))
    assert tab.page.evaluate(SCROLL_TOP) == top, "a plain scan must not scroll the page"

    scan = browser.call("scanTab", tab.id, {"complete": True})

    assert [d["turnIndex"] for d in _diagrams(scan)] == [diagram.turn_index], scan.get(
        "pendingDiagramTurns"
    )
    assert scan["pendingDiagramTurns"] == []
    assert tab.page.evaluate(SCROLL_TOP) == top


def test_save_all_saves_the_early_diagram_without_moving_the_page(chromium, sample, dirs):
    conv = sample.conversation("long")
    _early_diagram(conv)
    browser = chromium()
    tab, top = _open_unscrolled(browser, conv)
    browser.scan(tab, min_images=len(conv.expected))

    summary = browser.call("saveTab", tab.id, {})

    assert summary["failed"] == [], summary["failed"]
    svgs = [
        Path(s["path"]) for s in summary["saved"] if sniff(Path(s["path"]).read_bytes()) == "svg"
    ]
    assert len(svgs) == 1, f"expected the early diagram saved once, got {svgs}"
    assert "回家" in svgs[0].read_text(encoding="utf-8")
    assert tab.page.evaluate(SCROLL_TOP) == top
