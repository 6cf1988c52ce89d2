"""The Library page in Debian's Chromium with the real extension and the real host (registered by
``dsexport install``) on a library saved by the real save engine: search in English and Chinese,
filters and the address, the detail view, keyboard navigation, selection and a ZIP of it, the
conversations view, and files moved or deleted behind the catalog's back.

Input is Playwright's: real mouse and key events dispatched through the browser (CDP), not
JavaScript-made events."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from e2e_support import EXTENSION_ID
from library_support import (
    FOCUSED_INDEX,
    PICTURES_SHOWN,
    SHOWN_IDS,
    expect_ids,
    file_bytes,
    zip_images,
    zip_prompts,
)

from library_seed import ITEMS, seed_library

pytestmark = pytest.mark.e2e

LIBRARY = f"chrome-extension://{EXTENSION_ID}/library/library.html"
WAIT = 30_000


@pytest.fixture
def seeded(dirs):
    return seed_library()


def open_library(browser, query: str = "", *, viewport=None):
    page = browser.context.new_page()
    page.set_viewport_size(viewport or {"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(LIBRARY + query, wait_until="load")
    page.wait_for_function("() => document.documentElement.dataset.firstScreen", timeout=WAIT)
    page.errors = errors
    return page


def wait_count(page, n: int) -> None:
    page.wait_for_function(f"() => document.documentElement.dataset.count === '{n}'", timeout=WAIT)


def wait_shown(page, ids: list[int]) -> None:
    page.wait_for_function(
        f"(want) => JSON.stringify(({SHOWN_IDS})()) === JSON.stringify(want)",
        arg=ids,
        timeout=WAIT,
    )


def wait_full_image(page, entry_id: int) -> None:
    page.wait_for_function(
        "(id) => { const i = document.querySelector('#detail-image');"
        " return i.dataset.full === String(id) && i.complete && i.naturalWidth > 0; }",
        arg=entry_id,
        timeout=WAIT,
    )


def tile(page, entry_id: int):
    return page.locator(f'#grid .tile:not([hidden])[data-id="{entry_id}"]')


def test_search_filters_and_the_address(chromium, seeded):
    browser = chromium()
    page = open_library(browser)
    wait_count(page, len(seeded))
    assert page.evaluate(SHOWN_IDS) == [r.id for r in seeded], "newest first"
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)  # SVG, GIF, AVIF and 16-bit PNG too
    assert page.locator("#count").inner_text() == f"{len(seeded)} images"

    # English, as typed: every word, any substring, any case.
    page.locator("#q").click()
    page.keyboard.type("RED sca")
    want = expect_ids(seeded, lambda r: "red" in r.prompt.lower() and "sca" in r.prompt)
    wait_count(page, len(want))
    wait_shown(page, want)
    assert "q=RED+sca" in page.url
    # Chinese from one character.
    page.locator("#q").fill("")
    page.keyboard.insert_text("猫")
    want = expect_ids(seeded, lambda r: "猫" in r.prompt)
    wait_count(page, len(want))
    wait_shown(page, want)
    page.keyboard.insert_text("咪")
    wait_shown(page, expect_ids(seeded, lambda r: "猫咪" in r.prompt))
    page.locator("#q").fill("")
    wait_count(page, len(seeded))

    # Filters, one history entry each; Back and Forward restore them.
    page.locator("#kind").select_option("diagram")
    diagrams = expect_ids(seeded, lambda r: r.origin == "diagram")
    wait_shown(page, diagrams)
    assert "kind=diagram" in page.url
    page.locator("#format").select_option("svg")
    wait_shown(page, expect_ids(seeded, lambda r: r.format == "svg"))
    page.go_back()
    wait_shown(page, diagrams)
    assert page.locator("#format").input_value() == ""
    page.go_back()
    wait_count(page, len(seeded))
    page.go_forward()
    wait_shown(page, diagrams)
    page.locator("#clear-filters").click()
    wait_count(page, len(seeded))

    page.locator("#model").select_option("flux-dev")
    wait_shown(page, expect_ids(seeded, lambda r: r.model == "flux-dev"))
    page.locator("#model").select_option("__none__")
    wait_shown(page, expect_ids(seeded, lambda r: r.model is None))
    page.locator("#clear-filters").click()
    day = seeded[4].captured_at[:10]
    page.locator("#from").fill(day)
    page.locator("#to").fill(day)
    wait_shown(page, [seeded[4].id])
    assert f"from={day}" in page.url and f"to={day}" in page.url
    # Reload keeps it all.
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.ready", timeout=WAIT)
    wait_shown(page, [seeded[4].id])
    assert page.locator("#from").input_value() == day

    # library.html?q=… opens with that search.
    opened = open_library(browser, "?q=%E5%9B%B4%E5%B7%BE&format=webp")
    wait_shown(opened, expect_ids(seeded, lambda r: "围巾" in r.prompt and r.format == "webp"))
    assert opened.locator("#q").input_value() == "围巾"
    assert not page.errors and not opened.errors, page.errors + opened.errors


def test_detail_view_and_keyboard(chromium, seeded):
    browser = chromium()
    page = open_library(browser)
    wait_count(page, len(seeded))
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)
    columns = page.evaluate(
        "() => new Set([...document.querySelectorAll('#grid .tile:not([hidden])')]"
        ".map((t) => t.style.transform.split(',')[0])).size"
    )
    assert columns > 1
    # From the search box into the grid, then around it with the arrow keys.
    page.locator("#q").click()
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED_INDEX) == "0"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED_INDEX) == "2"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED_INDEX) == str(2 + columns)
    page.keyboard.press("End")
    assert page.evaluate(FOCUSED_INDEX) == str(len(seeded) - 1)
    page.keyboard.press("Home")
    assert page.evaluate(FOCUSED_INDEX) == "0"

    # Enter opens the detail view: the full image, read in pieces, and every field.
    png = seeded[0]
    page.keyboard.press("Enter")
    dialog = page.locator("#detail")
    dialog.wait_for(state="visible")
    wait_full_image(page, png.id)
    size = page.evaluate(
        "() => [document.querySelector('#detail-image').naturalWidth,"
        " document.querySelector('#detail-image').naturalHeight]"
    )
    from PIL import Image

    with Image.open(png.path) as im:
        width, height = im.size
    assert size == [width, height]
    assert page.locator("#detail-prompt").inner_text() == png.prompt
    fields = page.locator("#detail-fields").inner_text()
    for value in ("janus-pro", "1019", "DPM++ 2M", f"{width} × {height}", png.path, "c-flow"):
        assert value in fields, (value, fields)
    assert f"item={png.id}" in page.url
    link = page.locator("#open-conversation")
    assert link.get_attribute("href") == f"https://chat.deepseek.com/a/chat/s/{png.conversation_id}"
    assert link.get_attribute("target") == "_blank"

    # Copy prompt and parameters go to the real clipboard (the page's call is recorded too).
    page.evaluate(
        "() => { window.__copied = []; const board = navigator.clipboard;"
        " const write = board.writeText.bind(board);"
        " board.writeText = (text) => { window.__copied.push(text); return write(text); }; }"
    )
    page.locator("#copy-prompt").click()
    page.wait_for_function("() => document.querySelector('#toast').classList.contains('visible')")
    assert "error" not in page.locator("#toast").get_attribute("class")
    page.locator("#copy-params").click()
    copied = page.evaluate("() => window.__copied")
    assert copied[0] == png.prompt
    assert copied[1].startswith(png.prompt + "\nNegative prompt: blurry, lowres\nSteps: 30")

    # Right goes to the next result, Left back; Escape closes and the focus is where we were.
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.querySelector('#detail-prompt').textContent === {seeded[1].prompt!r}"
    )
    assert f"item={seeded[1].id}" in page.url
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.querySelector('#detail-prompt').textContent === {seeded[2].prompt!r}"
    )
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        f"() => document.querySelector('#detail-prompt').textContent === {seeded[1].prompt!r}"
    )
    # An SVG is shown through <img> from its bytes.
    assert seeded[1].format == "svg"
    wait_full_image(page, seeded[1].id)
    assert page.evaluate("() => document.querySelector('#detail-image').naturalWidth") == 320
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.wait_for_function(f"() => ({FOCUSED_INDEX})() === '1'", timeout=WAIT)
    assert "item=" not in page.url
    assert not page.errors, page.errors


def test_select_and_bundle_a_zip(chromium, seeded, dirs):
    browser = chromium()
    page = open_library(browser)
    wait_count(page, len(seeded))
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)
    first, second = seeded[2], seeded[5]
    tile(page, first.id).click(modifiers=["Control"])
    tile(page, second.id).click(modifiers=["Control"])
    assert page.locator("#selected-count").inner_text() == "2 selected"
    # Shift extends from the last one picked.
    tile(page, seeded[8].id).click(modifiers=["Shift"])
    picked = [first.id, *[r.id for r in seeded[5:9]]]
    assert page.locator("#selected-count").inner_text() == f"{len(picked)} selected"
    # While selecting, a plain click toggles instead of opening.
    tile(page, first.id).click()
    picked.remove(first.id)
    assert page.locator("#selected-count").inner_text() == f"{len(picked)} selected"
    selected = page.evaluate(
        "() => [...document.querySelectorAll('#grid .tile[aria-selected=true]')]"
        ".map((t) => Number(t.dataset.id))"
    )
    assert sorted(selected) == sorted(picked)

    page.evaluate(
        "() => { window.__progressSeen = false; new MutationObserver(() => {"
        " if (!document.querySelector('#bundle-progress').hidden) window.__progressSeen = true; })"
        ".observe(document.querySelector('#bundle-progress'), {attributes: true}); }"
    )
    page.locator("#bundle").click()
    page.wait_for_function("() => document.documentElement.dataset.bundle", timeout=WAIT)
    path = page.evaluate("() => document.documentElement.dataset.bundle")
    assert Path(path).parent == dirs.output and path.endswith(".zip")
    assert page.evaluate("() => window.__progressSeen")
    assert sorted(zip_images(path).values()) == sorted(file_bytes(seeded, picked))
    by_id = {r.id: r for r in seeded}
    assert sorted(zip_prompts(path)) == sorted(by_id[i].prompt for i in picked)
    assert "ZIP of 4 images saved" in page.locator("#toast-text").inner_text()

    # Ctrl+A selects every result; Escape clears.
    page.locator("#q").click()
    page.keyboard.press("Enter")
    page.keyboard.press("Control+a")
    page.wait_for_function(
        f"() => document.querySelector('#selected-count').textContent === '{len(seeded)} selected'"
    )
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelector('#selection-bar').hidden")
    assert not page.errors, page.errors


def test_conversations_view(chromium, seeded):
    browser = chromium()
    page = open_library(browser)
    wait_count(page, len(seeded))
    page.locator("#view-conversations").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#convs .conversation:not([hidden]) strong').length === 4"
        " && [...document.querySelectorAll('#convs .conversation:not([hidden]) strong')]"
        ".every((s) => s.textContent)",
        timeout=WAIT,
    )
    titles = page.locator("#convs .conversation:not([hidden]) strong").all_inner_texts()
    assert titles == ["流程图 diagrams", "Garden studies", "赛博朋克城市", "Cats in scarves"]
    assert "view=conversations" in page.url
    metas = page.locator("#convs .conversation:not([hidden]) .meta").all_inner_texts()
    assert metas[3].startswith("6 images")
    page.get_by_role("button", name=re.compile("Cats in scarves")).click()
    cats = expect_ids(seeded, lambda r: r.conversation_id == "c-cats")
    wait_shown(page, cats)
    assert page.locator("#conv-chip-text").inner_text() == "Cats in scarves"
    assert "conv=c-cats" in page.url and "view=" not in page.url
    page.locator("#conv-clear").click()
    wait_count(page, len(seeded))
    assert not page.errors, page.errors


def test_moved_and_deleted_files_are_shown_and_repaired(chromium, seeded):
    moved, deleted = seeded[3], seeded[6]
    new_place = Path(moved.path).with_name("renamed" + Path(moved.path).suffix)
    os.rename(moved.path, new_place)
    os.unlink(deleted.path)
    browser = chromium()
    page = open_library(browser)
    wait_count(page, len(seeded))
    page.wait_for_function(
        f"() => document.querySelector('[data-id=\"{deleted.id}\"]')"
        "?.classList.contains('missing')",
        timeout=WAIT,
    )
    assert tile(page, moved.id).get_attribute("class").count("missing") == 1
    assert tile(page, deleted.id).inner_text() == "File moved or deleted"
    banner = page.locator("#missing-banner")
    assert banner.is_visible()
    page.locator("#check").click()
    page.wait_for_function(
        "() => document.querySelector('#missing-text').textContent.startsWith('Repaired')",
        timeout=WAIT,
    )
    report = page.locator("#missing-text").inner_text()
    assert "1 moved files found, 1 deleted files removed" in report
    wait_count(page, len(seeded) - 1)
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('[data-id=\"{moved.id}\"]');"
        " return t && !t.classList.contains('missing')"
        " && t.querySelector('img').naturalWidth > 0; }",
        timeout=WAIT,
    )
    assert deleted.id not in page.evaluate(SHOWN_IDS)
    assert not page.errors, page.errors


def test_the_popup_and_options_link_to_it(chromium, seeded):
    browser = chromium()
    options = browser.extension_page("options/options.html")
    link = options.locator("#open-library")
    assert link.inner_text() == "Library"
    with browser.context.expect_page() as opened:
        options.locator("#open-library").click(modifiers=["Control"])
    page = opened.value
    page.wait_for_function("() => document.documentElement.dataset.firstScreen", timeout=WAIT)
    assert page.url == LIBRARY
    popup = browser.extension_page("popup/popup.html")
    with browser.context.expect_page() as opened:
        popup.locator("#open-library").click()
    assert opened.value.url.startswith(LIBRARY)
    assert len(ITEMS) == len(seeded)


def test_scrolling_a_large_library_keeps_the_dom_small(chromium, seeded):
    from library_seed import add_copies

    copies = add_copies(seeded, 1500)
    total = len(seeded) + len(copies)
    browser = chromium()
    page = open_library(browser)
    page.wait_for_function(
        f"() => document.documentElement.dataset.count === '{total}'", timeout=WAIT
    )
    grid_tiles = "() => document.querySelectorAll('#grid .tile').length"
    first_screen = page.evaluate(grid_tiles)
    # Far beyond the first page of results: entries and thumbnails come as they scroll in.
    page.evaluate(
        "() => { const g = document.querySelector('#grid'); g.scrollTop = g.scrollHeight / 2; }"
    )
    # The scroll is handled on the next frame: until then the first screen is still shown (and
    # complete), so wait for tiles from the middle of the result, then for their pictures.
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#grid .tile:not([hidden])')]"
        f".some((t) => Number(t.dataset.index) > {total // 4})",
        timeout=WAIT,
    )
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)
    middle = page.evaluate(SHOWN_IDS)
    assert middle and min(middle) < copies[0] - 400, "the middle of the result is on screen"
    # End goes to the last result (the oldest image), with the keyboard.
    page.locator("#q").click()
    page.keyboard.press("Enter")
    page.keyboard.press("End")
    assert page.evaluate(FOCUSED_INDEX) == str(total - 1)
    page.wait_for_function(PICTURES_SHOWN, timeout=WAIT)
    assert seeded[-1].id in page.evaluate(SHOWN_IDS)
    assert page.evaluate(grid_tiles) < first_screen * 3, "tiles are recycled, not added"
    assert not page.errors, page.errors


def test_without_the_helper_the_page_says_how_to_install_it(chromium, dirs):
    browser = chromium(install=False)
    page = browser.context.new_page()
    page.goto(LIBRARY)
    page.wait_for_function("() => document.documentElement.dataset.ready === 'error'", timeout=WAIT)
    box = page.locator("#host-box")
    assert box.is_visible()
    assert page.locator("#host-title").inner_text() == "The DS Export helper app is not installed"
    assert page.locator("#install-command").inner_text() == "bash install/install.sh"
