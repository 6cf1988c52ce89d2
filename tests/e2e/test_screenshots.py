"""Screenshots of the real extension for the README (docs/screenshots/*.png): the popup listing a
conversation's images, the popup mid-save, and the options page, in English and Chinese.

Each also checks what it shows, so a broken page does not become a pretty picture."""

from __future__ import annotations

import os

import pytest
from e2e_support import REPO

pytestmark = pytest.mark.e2e

#: Where the README's pictures live; refreshed only on request, so a test run leaves the tree clean:
#: DSEXPORT_UPDATE_SCREENSHOTS=1 python -m pytest tests/e2e/test_screenshots.py
DOCS_SHOTS = REPO / "docs" / "screenshots"
#: A typical popup size; the page mode of the popup centres a 420 px wide panel.
POPUP_VIEWPORT = {"width": 460, "height": 720}


def _popup(browser, tab, *, viewport=POPUP_VIEWPORT):
    page = browser.context.new_page()
    page.set_viewport_size(viewport)
    from e2e_support import EXTENSION_ID

    page.goto(f"chrome-extension://{EXTENSION_ID}/popup/popup.html?tab={tab.id}")
    return page


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_popup_and_options_screenshots(chromium, sample, sample_server, lang, tmp_path):
    suffix = "en" if lang == "en" else "zh"
    shots = DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    browser = chromium(lang=lang)
    conv = sample.conversation("main")
    tab = browser.open("main")
    browser.scan(tab, min_images=len(conv.expected))

    popup = _popup(browser, tab)
    popup.wait_for_function(
        f"() => document.querySelectorAll('#grid li').length >= {len(conv.expected)}",
        timeout=15_000,
    )
    popup.wait_for_function(
        "() => [...document.querySelectorAll('#grid img')].every((i) => i.complete)",
        timeout=15_000,
    )
    save_label = popup.locator("#save-all").inner_text()
    if suffix == "zh":
        assert any("\u4e00" <= c <= "\u9fff" for c in save_label), f"not Chinese: {save_label!r}"
    else:
        assert save_label.isascii() and save_label.strip(), save_label
    popup.screenshot(path=str(shots / f"popup-{suffix}.png"), full_page=True)

    # Mid-save: a slow network keeps the 50-image batch in progress long enough to look at.
    batch = browser.open("batch50")
    browser.scan(batch, min_images=50)
    sample_server.image_delay = 0.15
    try:
        progress_popup = _popup(browser, batch)
        progress_popup.wait_for_function(
            "() => document.querySelectorAll('#grid li').length >= 50", timeout=15_000
        )
        progress_popup.locator("#save-all").click()
        progress_popup.wait_for_function(
            "() => { const p = document.querySelector('#progress');"
            " return p && !document.querySelector('#progress-box').hidden"
            " && p.value > 0.15 && p.value < 0.6; }",
            timeout=30_000,
        )
        progress_popup.screenshot(path=str(shots / f"popup-progress-{suffix}.png"))
    finally:
        sample_server.image_delay = 0
    progress_popup.locator("#summary").wait_for(state="visible", timeout=60_000)
    assert progress_popup.locator("#sum-saved").inner_text().strip() == "50"

    options = browser.extension_page("options/options.html")
    options.set_viewport_size({"width": 900, "height": 1000})
    options.wait_for_function(
        "() => !document.querySelector('#fields').disabled"
        " && document.querySelector('#output_dir').value"
        " && document.querySelector('#preview').textContent",
        timeout=15_000,
    )
    heading = options.locator("h1").first.inner_text()
    assert heading.strip(), "the options page has no heading"
    assert options.locator("#output_dir").input_value() == str(browser.dirs.output)
    # Cosmetic, for the README only (nothing is saved): show the folder a user would see rather
    # than this test's temporary HOME.
    options.evaluate(
        "(home) => { const i = document.querySelector('#output_dir');"
        " i.value = i.value.replace(home, '/home/you'); }",
        str(browser.dirs.home),
    )
    options.screenshot(path=str(shots / f"options-{suffix}.png"), full_page=True)
