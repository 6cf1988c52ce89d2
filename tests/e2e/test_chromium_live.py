"""End to end in Chromium on the sample's "live" conversation: the page in the shape others
captured from chat.deepseek.com in Sept-Oct 2026 (reference §13; ``dsexport.demo.sample._live``).
It opens with four of its fourteen rows mounted, so two of its three Mermaid charts exist only in
the page's data until the list is scrolled; a second virtual list (the right-edge strip) comes
first in the document; charts are rendered again, with new random ids, on every remount; two
answers draw with SVG written as code; one shows a photo from a public image host that answers
``Access-Control-Allow-Origin: *`` and for which the extension holds no host permission.

Cases (issue 13): the sweep with a slow remount (``?lag=`` 0 and 1000 ms), the second list first,
the public host with the browser's downloader not in use, a re-rendered diagram, an SVG code block
(as .svg and, on request, as PNG)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import EXTENSION_ID, assert_clean_drawings, drawings_shown, rgba, sniff

pytestmark = pytest.mark.e2e

SCROLL_TOP = "document.querySelector('.ds-virtual-list--printable').scrollTop"
RENDERS = "Number(document.documentElement.dataset.sampleRenders || 0)"
CHART_IDS = "[...document.querySelectorAll('svg[id^=mermaid]')].map((s) => s.id)"


def _open(browser, lag: int | None = None):
    tab = browser.open("live", fragment=f"?lag={lag}" if lag is not None else "")
    # A hidden tab renders nothing, so the sweep would not run: keep the conversation in front.
    tab.page.bring_to_front()
    tab.page.wait_for_function(f"{CHART_IDS}.length === 1", timeout=15_000)
    return tab


def _diagrams(scan: dict) -> list[dict]:
    return [item for item in scan["images"] if item["kind"] == "diagram"]


def _svgs(summary: dict) -> dict[Path, str]:
    out = {}
    for entry in summary["saved"]:
        path = Path(entry["path"])
        data = path.read_bytes()
        if sniff(data) == "svg":
            out[path] = data.decode("utf-8")
    return out


def _listen(browser):
    page = browser.extension_page(f"popup/popup.html?e2e-listener=1&id={EXTENSION_ID}")
    page.evaluate(
        """() => { window.__progress = [];
             chrome.runtime.onMessage.addListener((m) => {
               if (m && m.type === 'dsexport:progress') window.__progress.push(m);
             }); }"""
    )
    return page


def test_the_second_list_first_is_not_the_conversation(chromium, sample):
    conv = sample.conversation("live")
    browser = chromium()
    tab = _open(browser)
    first = tab.page.evaluate(
        "document.querySelector('.ds-virtual-list-visible-items').firstElementChild.className"
    )
    assert first == "_81e7b5e", "the strip's list comes first in the document"

    scan = browser.scan(tab, min_images=4)

    assert [t["role"] for t in scan["turns"]] == [t.role for t in conv.turns]
    prompts = [t.get("prompt") for t in scan["turns"] if t["role"] == "user"]
    assert prompts == [t.text for t in conv.turns if t.role == "user"]
    assert scan["health"]["ok"], scan["health"]["problems"]
    assert scan["pendingDiagramTurns"] == [1, 5]
    assert {i["turnIndex"] for i in _diagrams(scan)} == {3, 9, 11}


@pytest.mark.parametrize("lag", [0, 1000])
def test_save_all_sweeps_a_slow_list_and_saves_every_chart_once(chromium, sample, dirs, lag):
    conv = sample.conversation("live")
    browser = chromium()
    tab = _open(browser, lag)
    browser.scan(tab, min_images=4)
    listener = _listen(browser)
    tab.page.bring_to_front()
    top = tab.page.evaluate(SCROLL_TOP)
    renders = tab.page.evaluate(RENDERS)

    summary = browser.call("saveTab", tab.id, {}, timeout=240)

    assert summary["failed"] == [], summary["failed"]
    assert "unmountedTurns" not in summary, summary.get("unmountedTurns")
    svgs = _svgs(summary)
    labels = {"打开页面": 1, "日出": 5, "流程图": 11}
    for label in labels:
        holding = [p for p, text in svgs.items() if f"<p>{label}</p>" in text]
        assert len(holding) == 1, f"chart {label!r} saved {len(holding)} times: {sorted(svgs)}"
    charts = [text for text in svgs.values() if "aria-roledescription" in text]
    assert len(charts) == len(conv.diagrams) == 3
    assert tab.page.evaluate(RENDERS) > renders, "the list was scrolled"
    tab.page.wait_for_function(f"{SCROLL_TOP} === {top}", timeout=5_000)
    progress = listener.evaluate("window.__progress")
    sweep = [m for m in progress if m.get("tabId") == tab.id and m.get("phase") == "sweep"]
    assert sweep and sweep[-1]["done"] == sweep[-1]["total"] == 2, sweep


def test_a_chart_rendered_again_is_one_item_and_one_file(chromium, sample, dirs):
    browser = chromium()
    tab = _open(browser)
    before = browser.scan(tab, min_images=4)
    [chart] = [d for d in _diagrams(before) if d["turnIndex"] == 11]
    old_id = tab.page.evaluate(CHART_IDS)[0]
    # Scroll away and back: the list unmounts the row, then renders the chart again.
    tab.page.evaluate(f"{SCROLL_TOP} = 0")
    tab.page.wait_for_function(f"{CHART_IDS}.length === 0 || {CHART_IDS}[0] !== '{old_id}'")
    tab.page.evaluate(f"{SCROLL_TOP} = 1e9")
    tab.page.wait_for_function(f"{CHART_IDS}.length === 1 && {CHART_IDS}[0] !== '{old_id}'")

    after = browser.call("scanTab", tab.id)

    again = [d for d in _diagrams(after) if d["turnIndex"] == 11]
    assert [d["id"] for d in again] == [chart["id"]], "one item for one chart"
    assert again[0]["svg"] == chart["svg"], "its markup does not depend on the render"
    first = browser.call("saveTab", tab.id, {}, timeout=240)
    second = browser.call("saveTab", tab.id, {}, timeout=240)
    assert first["failed"] == [] and second["failed"] == []
    assert all(entry["duplicate"] for entry in second["saved"]), second["saved"]
    assert sorted(e["path"] for e in second["saved"]) == sorted(e["path"] for e in first["saved"])


def test_public_image_host_without_the_browser_downloader(chromium, sample, dirs):
    """Chrome's "Ask where to save each file" is on, so saving cannot go through the downloader;
    the photo's host answers ``Access-Control-Allow-Origin: *`` and we hold no permission for it:
    only a read without credentials gets it."""
    conv = sample.conversation("live")
    [photo] = conv.turns[7].cdn
    browser = chromium(ask_where_to_save=True)
    tab = _open(browser)
    scan = browser.scan(tab, min_images=4)
    [item] = [i for i in scan["images"] if i.get("src") == photo.url]

    summary = browser.call("saveTab", tab.id, {"ids": [item["id"]]}, timeout=240)

    assert summary["failed"] == [], summary["failed"]
    [saved] = summary["saved"]
    data = Path(saved["path"]).read_bytes()
    assert sniff(data) == "jpeg"
    from imagebytes import pixels

    assert pixels(data) == pixels(photo.body)
    # The downloader was tried once and cancelled by the Save As prompt; no file came through it.
    assert not [p for p in dirs.downloads.rglob("*") if p.is_file()], "saved by the downloader"
    hits = [h for h in browser.server.hits if h[0] == "cdn.example-images.test"]
    assert hits and all(status == 200 for _, _, status in hits)


def test_svg_code_blocks_saved_clean_as_svg_and_as_png_on_request(chromium, sample, dirs):
    conv = sample.conversation("live")
    browser = chromium()
    tab = _open(browser)
    scan = browser.scan(tab, min_images=4)
    drawings = [d for d in _diagrams(scan) if d["turnIndex"] in (3, 9)]
    assert len(drawings) == len(conv.drawings) == 2
    ids = [d["id"] for d in drawings]
    [chart] = [d["id"] for d in _diagrams(scan) if d["turnIndex"] == 11]

    as_svg = browser.call("saveTab", tab.id, {"ids": ids}, timeout=240)
    as_png = browser.call("saveTab", tab.id, {"ids": [*ids, chart], "format": "png"}, timeout=240)

    assert as_svg["failed"] == [] and as_png["failed"] == [], (as_svg, as_png)
    texts = [Path(e["path"]).read_text(encoding="utf-8") for e in as_svg["saved"]]
    assert [p.suffix for p in map(Path, (e["path"] for e in as_svg["saved"]))] == [".svg", ".svg"]
    assert_clean_drawings(texts)
    found = drawings_shown([e["path"] for e in as_png["saved"]])
    assert found == {"猫", "gold", "chart"}, f"rendered drawings show {found}"
    # WebP: drawn to PNG in the extension, converted by the helper (lossless by default).
    as_webp = browser.call("saveTab", tab.id, {"ids": ids[:1], "format": "webp"}, timeout=240)
    assert as_webp["failed"] == [], as_webp
    webp = Path(as_webp["saved"][0]["path"]).read_bytes()
    assert sniff(webp) == "webp"
    png = next(e for e in as_png["saved"] if e["id"] == ids[0])
    assert rgba(webp) == rgba(Path(png["path"]).read_bytes()), "lossless: the same picture"


def test_without_the_page_data_save_all_passes_over_the_whole_list(chromium, sample, dirs):
    """The history API refuses the extension (``?nohistory=1``): the DOM is all there is, layout
    shows rows the list has not mounted, so "save all" passes over the whole list (remounting
    400 ms after each scroll) and still saves every chart, drawing and photo once."""
    conv = sample.conversation("live")
    browser = chromium()
    tab = browser.open("live", fragment="?nohistory=1&lag=400")
    tab.page.bring_to_front()
    tab.page.wait_for_function(f"{CHART_IDS}.length === 1", timeout=15_000)
    scan = browser.scan(tab, min_images=1)
    assert any("biz_code 40003" in p for p in scan["health"]["problems"]), scan["health"]
    assert len(scan["images"]) < 6, "only what is mounted, before the sweep"

    summary = browser.call("saveTab", tab.id, {}, timeout=240)

    assert summary["failed"] == [], summary["failed"]
    kinds = sorted(sniff(Path(e["path"]).read_bytes()) for e in summary["saved"])
    assert kinds == ["jpeg"] + ["svg"] * (len(conv.diagrams) + len(conv.drawings)), kinds
    texts = _svgs(summary).values()
    for label in ("打开页面", "日出", "流程图"):
        assert sum(f"<p>{label}</p>" in t for t in texts) == 1, label
