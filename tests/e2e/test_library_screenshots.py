"""Screenshots of the Library page for the README (docs/screenshots/library-*.png): the grid in
English (light), a Chinese search with a selection (dark), the detail view, and the
conversations view in Chinese. Each checks what it shows first, so a broken page does not become
a pretty picture.

Refresh them with ``DSEXPORT_UPDATE_SCREENSHOTS=1 python -m pytest
tests/e2e/test_library_screenshots.py``.
"""

from __future__ import annotations

import os

import pytest
from e2e_support import EXTENSION_ID, REPO
from library_support import PICTURES_SHOWN, expect_ids

from library_seed import seed_library

pytestmark = pytest.mark.e2e

DOCS_SHOTS = REPO / "docs" / "screenshots"
LIBRARY = f"chrome-extension://{EXTENSION_ID}/library/library.html"
VIEWPORT = {"width": 1280, "height": 800}
WAIT = 30_000


def _shots(tmp_path):
    folder = DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, query="", *, dark=False):
    page = browser.context.new_page()
    page.set_viewport_size(VIEWPORT)
    if dark:
        page.emulate_media(color_scheme="dark")
    page.goto(LIBRARY + query)
    page.wait_for_function("() => document.documentElement.dataset.firstScreen", timeout=WAIT)
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)
    return page


def _home_paths(page, home):
    # Cosmetic, for the README only: the folder a user would see, not this test's temporary HOME.
    page.evaluate(
        "(home) => { for (const dd of document.querySelectorAll('#detail-fields dd'))"
        " dd.textContent = dd.textContent.replace(home, '/home/you'); }",
        str(home),
    )


def test_library_screenshots_english(chromium, dirs, tmp_path):
    shots = _shots(tmp_path)
    seeded = seed_library()
    browser = chromium(lang="en")
    page = _open(browser)
    assert page.locator("#count").inner_text() == f"{len(seeded)} images"
    page.locator("#size").fill("200")
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)
    page.locator("#size").blur()
    page.mouse.move(5, 795)
    page.screenshot(path=str(shots / "library-en.png"))

    png = seeded[0]
    page.locator(f'#grid .tile[data-id="{png.id}"]').click()
    page.wait_for_function(
        "(id) => document.querySelector('#detail-image').dataset.full === String(id)"
        " && document.querySelector('#detail-image').naturalWidth > 0",
        arg=png.id,
        timeout=WAIT,
    )
    assert page.locator("#detail-prompt").inner_text() == png.prompt
    _home_paths(page, dirs.home)
    page.screenshot(path=str(shots / "library-detail-en.png"))


def test_library_screenshots_chinese(chromium, dirs, tmp_path):
    shots = _shots(tmp_path)
    seeded = seed_library()
    browser = chromium(lang="zh-CN")
    page = _open(browser, "?q=%E7%8C%AB", dark=True)  # 猫
    cats = expect_ids(seeded, lambda r: "猫" in r.prompt)
    page.wait_for_function(
        f"() => document.documentElement.dataset.count === '{len(cats)}'", timeout=WAIT
    )
    heading = page.locator("h1").inner_text()
    assert any("\u4e00" <= c <= "\u9fff" for c in heading), heading
    for entry_id in cats[:2]:
        page.locator(f'#grid .tile[data-id="{entry_id}"]').click(modifiers=["Control"])
    assert page.locator("#selected-count").inner_text() == "已选择 2 张"
    page.mouse.move(5, 795)
    page.screenshot(path=str(shots / "library-search-zh-dark.png"))

    convs = _open(browser)
    convs.locator("#view-conversations").click()
    convs.wait_for_function(
        "() => [...document.querySelectorAll('#convs .conversation:not([hidden]) img[src]')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
        " && document.querySelectorAll('#convs .conversation:not([hidden]) strong').length === 4",
        timeout=WAIT,
    )
    assert "赛博朋克城市" in convs.locator("#convs").inner_text()
    convs.screenshot(path=str(shots / "library-conversations-zh.png"))
