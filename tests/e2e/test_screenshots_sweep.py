"""What a person sees while "Save all" reads a conversation the page has not shown in full, in the
real popup (English and Chinese): the progress line while the list is swept, and the summary when
a chart could not be read (its message shows the Mermaid code instead of the chart, ``?codetab=``).
Screenshots go to docs/screenshots/ with DSEXPORT_UPDATE_SCREENSHOTS=1 (test_screenshots.py)."""

from __future__ import annotations

import os

import pytest
from e2e_support import EXTENSION_ID
from test_screenshots import DOCS_SHOTS, POPUP_VIEWPORT

pytestmark = pytest.mark.e2e

WORDS = {
    "en": ("Reading the conversation", "the page could not show them", "(no. 2)"),
    "zh": ("正在读取对话", "页面未能显示", "第 2 条"),
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_sweep_progress_and_the_unread_turn_in_the_summary(chromium, sample, lang, tmp_path):
    suffix = "en" if lang == "en" else "zh"
    reading, unread, which = WORDS[suffix]
    shots = DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    browser = chromium(lang=lang)
    # Chart 0 (turn 1) shows its code; the list remounts a second after each scroll.
    tab = browser.open("live", fragment="?lag=1000&codetab=0")
    browser.scan(tab, min_images=4)
    popup = browser.context.new_page()
    popup.set_viewport_size(POPUP_VIEWPORT)
    popup.goto(f"chrome-extension://{EXTENSION_ID}/popup/popup.html?tab={tab.id}")
    popup.wait_for_function("() => document.querySelectorAll('#grid li').length >= 4")
    # The conversation stays the visible tab (a hidden one renders nothing to sweep).
    tab.page.bring_to_front()

    popup.locator("#save-all").click()

    popup.wait_for_function(
        "(w) => !document.querySelector('#progress-box').hidden"
        " && document.querySelector('#progress-box').textContent.includes(w)",
        arg=reading,
        timeout=30_000,
    )
    popup.screenshot(path=str(shots / f"popup-sweep-{suffix}.png"))
    popup.locator("#summary").wait_for(state="visible", timeout=120_000)
    warnings = popup.locator("#sum-warnings").inner_text()
    assert unread in warnings and which in warnings, warnings
    assert popup.locator("#sum-failed").inner_text().strip() == "0"
    popup.screenshot(path=str(shots / f"popup-unread-turn-{suffix}.png"), full_page=True)
