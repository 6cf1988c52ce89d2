"""End to end in Firefox ESR on the sample's "live" conversation (the live page's shape, reference
§13; test_chromium_live.py tells the cases): the sweep with a slow remount (0 and 1000 ms), the
second virtual list first, the public image host with the browser's downloader not in use, a
chart rendered again, and SVG drawn as code saved as .svg and, on request, as PNG (drawn in
Firefox's background page)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from e2e_support import (
    assert_clean_drawings,
    drawings_shown,
    sniff,
)
from test_firefox import (
    _call,
    _extension_page,
    _open_conversation,
    _scan,
    _tab_id,
    firefox,  # noqa: F401  (fixture)
    running_firefox,
)

pytestmark = pytest.mark.e2e

SCROLL_TOP = "document.querySelector('.ds-virtual-list--printable').scrollTop"
RENDERS = "Number(document.documentElement.dataset.sampleRenders || 0)"
CHART_IDS = "[...document.querySelectorAll('svg[id^=mermaid]')].map((s) => s.id)"


def _wait(ff, tab: str, expression: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not ff.evaluate(tab, expression):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {expression}")
        time.sleep(0.1)


def _open(ff, conv, lag: int | None = None):
    tab = _open_conversation(ff, conv.page_url + (f"?lag={lag}" if lag is not None else ""))
    page = _extension_page(ff)
    tab_id = _tab_id(ff, page, conv.page_url)
    # A background tab renders nothing, so a sweep could not run: keep the conversation in front.
    ff.cmd("browsingContext.activate", context=tab)
    _wait(ff, tab, f"{CHART_IDS}.length === 1")
    return tab, page, tab_id


def _diagrams(scan: dict) -> list[dict]:
    return [item for item in scan["images"] if item["kind"] == "diagram"]


def test_firefox_the_second_list_first_is_not_the_conversation(firefox, sample):  # noqa: F811
    conv = sample.conversation("live")
    tab, page, tab_id = _open(firefox, conv)
    first = firefox.evaluate(
        tab, "document.querySelector('.ds-virtual-list-visible-items').firstElementChild.className"
    )
    assert first == "_81e7b5e"

    scan = _scan(firefox, page, tab_id, 4)

    assert [t["role"] for t in scan["turns"]] == [t.role for t in conv.turns]
    prompts = [t.get("prompt") for t in scan["turns"] if t["role"] == "user"]
    assert prompts == [t.text for t in conv.turns if t.role == "user"]
    assert scan["health"]["ok"], scan["health"]["problems"]
    assert scan["pendingDiagramTurns"] == [1, 5]


@pytest.mark.parametrize("lag", [0, 1000])
def test_firefox_save_all_sweeps_a_slow_list_and_saves_every_chart_once(firefox, sample, lag):  # noqa: F811
    conv = sample.conversation("live")
    tab, page, tab_id = _open(firefox, conv, lag)
    _scan(firefox, page, tab_id, 4)
    firefox.evaluate(
        page,
        "(window.__progress = [], browser.runtime.onMessage.addListener((m) => {"
        " if (m && m.type === 'dsexport:progress') window.__progress.push(m); }), true)",
    )
    firefox.cmd("browsingContext.activate", context=tab)
    top = firefox.evaluate(tab, SCROLL_TOP)
    renders = firefox.evaluate(tab, RENDERS)

    summary = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": {}}, timeout=240)

    assert summary["failed"] == [], summary["failed"]
    assert "unmountedTurns" not in summary, summary.get("unmountedTurns")
    svgs = [Path(s["path"]) for s in summary["saved"] if s["path"].endswith(".svg")]
    texts = [path.read_text("utf-8") for path in svgs]
    for label in ("打开页面", "日出", "流程图"):
        assert sum(f"<p>{label}</p>" in t for t in texts) == 1, label
    assert sum("aria-roledescription" in t for t in texts) == len(conv.diagrams) == 3
    assert firefox.evaluate(tab, RENDERS) > renders, "the list was scrolled"
    _wait(firefox, tab, f"{SCROLL_TOP} === {top}", timeout=5)
    progress = firefox.evaluate(page, "window.__progress")
    sweep = [m for m in progress if m.get("tabId") == tab_id and m.get("phase") == "sweep"]
    assert sweep and sweep[-1]["done"] == sweep[-1]["total"] == 2, sweep


def test_firefox_a_chart_rendered_again_is_one_item_and_one_file(firefox, sample):  # noqa: F811
    conv = sample.conversation("live")
    tab, page, tab_id = _open(firefox, conv)
    before = _scan(firefox, page, tab_id, 4)
    [chart] = [d for d in _diagrams(before) if d["turnIndex"] == 11]
    old = firefox.evaluate(tab, f"{CHART_IDS}[0]")
    firefox.evaluate(tab, f"({SCROLL_TOP} = 0, true)")
    _wait(firefox, tab, f"{CHART_IDS}.length === 0 || {CHART_IDS}[0] !== {json.dumps(old)}")
    firefox.evaluate(tab, f"({SCROLL_TOP} = 1e9, true)")
    _wait(firefox, tab, f"{CHART_IDS}.length === 1 && {CHART_IDS}[0] !== {json.dumps(old)}")

    after = _call(firefox, page, "scanTab", {"tabId": tab_id})

    again = [d for d in _diagrams(after) if d["turnIndex"] == 11]
    assert [d["id"] for d in again] == [chart["id"]]
    assert again[0]["svg"] == chart["svg"]
    first = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": {}}, timeout=240)
    second = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": {}}, timeout=240)
    assert first["failed"] == [] and second["failed"] == []
    assert all(entry["duplicate"] for entry in second["saved"]), second["saved"]


@pytest.fixture
def firefox_without_downloader(dirs, sample_server, tmp_path):
    """Firefox whose downloader cannot save anything: its download folder (and the fallback,
    ~/Downloads) is a file, not a folder. Firefox, unlike Chrome, does not let "Always ask where
    to save files" stop an extension's quiet download, so this is how saving is made to do
    without it here, as it does wherever the downloader is not used."""
    dirs.downloads.rmdir()
    dirs.downloads.write_text("not a folder\n")
    yield from running_firefox(dirs, sample_server, tmp_path)


def test_firefox_public_image_host_without_the_browser_downloader(
    firefox_without_downloader, sample, dirs
):
    ff = firefox_without_downloader
    conv = sample.conversation("live")
    [photo] = conv.turns[7].cdn
    _, page, tab_id = _open(ff, conv)
    scan = _scan(ff, page, tab_id, 4)
    [item] = [i for i in scan["images"] if i.get("src") == photo.url]

    summary = _call(ff, page, "saveTab", {"tabId": tab_id, "options": {"ids": [item["id"]]}})

    assert summary["failed"] == [], summary["failed"]
    [saved] = summary["saved"]
    data = Path(saved["path"]).read_bytes()
    from imagebytes import pixels

    assert sniff(data) == "jpeg" and pixels(data) == pixels(photo.body)
    assert dirs.downloads.read_text() == "not a folder\n"


def test_firefox_svg_code_blocks_saved_clean_as_svg_and_as_png(firefox, sample):  # noqa: F811
    conv = sample.conversation("live")
    _, page, tab_id = _open(firefox, conv)
    scan = _scan(firefox, page, tab_id, 4)
    ids = [d["id"] for d in _diagrams(scan) if d["turnIndex"] in (3, 9)]
    assert len(ids) == len(conv.drawings) == 2
    [chart] = [d["id"] for d in _diagrams(scan) if d["turnIndex"] == 11]

    as_svg = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": {"ids": ids}})
    png = {"ids": [*ids, chart], "format": "png"}
    as_png = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": png})

    assert as_svg["failed"] == [] and as_png["failed"] == [], (as_svg, as_png)
    texts = [Path(e["path"]).read_text("utf-8") for e in as_svg["saved"]]
    assert all(e["path"].endswith(".svg") for e in as_svg["saved"])
    assert_clean_drawings(texts)
    found = drawings_shown([e["path"] for e in as_png["saved"]])
    assert found == {"猫", "gold", "chart"}, f"rendered drawings show {found}"


def test_firefox_without_the_page_data_save_all_passes_over_the_whole_list(firefox, sample):  # noqa: F811
    conv = sample.conversation("live")
    tab = _open_conversation(firefox, conv.page_url + "?nohistory=1&lag=400")
    page = _extension_page(firefox)
    tab_id = _tab_id(firefox, page, conv.page_url)
    firefox.cmd("browsingContext.activate", context=tab)
    _wait(firefox, tab, f"{CHART_IDS}.length === 1")
    scan = _scan(firefox, page, tab_id, 1)
    assert any("biz_code 40003" in p for p in scan["health"]["problems"]), scan["health"]

    summary = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": {}}, timeout=240)

    assert summary["failed"] == [], summary["failed"]
    kinds = sorted(sniff(Path(e["path"]).read_bytes()) for e in summary["saved"])
    assert kinds == ["jpeg"] + ["svg"] * (len(conv.diagrams) + len(conv.drawings)), kinds
