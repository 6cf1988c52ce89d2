"""The Library page in Debian's Firefox ESR (headless, WebDriver BiDi) with the real extension and
the real host (``dsexport install --browser firefox`` in the test's HOME): search in English and
Chinese, filters and Back, the detail view with the keyboard, a selection bundled as a ZIP.

Keys and clicks go through BiDi ``input.performActions``: the browser's own input pipeline, so the
page receives trusted events as from a keyboard and a mouse."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from firefox import EXTENSION_UUID, BidiError
from library_support import FOCUSED_INDEX, PICTURES_SHOWN, SHOWN_IDS, expect_ids, zip_images
from test_firefox import firefox  # noqa: F401  (the fixture: Firefox with the extension and host)

from library_seed import seed_library

pytestmark = pytest.mark.e2e

LIBRARY = f"moz-extension://{EXTENSION_UUID}/library/library.html"

KEYS = {
    "Enter": "\ue007",
    "Escape": "\ue00c",
    "ArrowLeft": "\ue012",
    "ArrowUp": "\ue013",
    "ArrowRight": "\ue014",
    "ArrowDown": "\ue015",
    "Home": "\ue011",
    "End": "\ue010",
    "Control": "\ue009",
    "Shift": "\ue008",
    "Backspace": "\ue003",
}


@pytest.fixture
def seeded(dirs):
    return seed_library()


def open_library(ff, query: str = "") -> str:
    page = ff.open_privileged_tab(LIBRARY + query)
    wait_for(ff, page, "document.documentElement.dataset.firstScreen")
    return page


def wait_for(ff, page: str, expression: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = ff.evaluate(page, f"(() => {expression})()")
        except BidiError:  # the document is still being replaced
            last = None
        if last:
            return last
        time.sleep(0.1)
    seen = ff.evaluate(
        page,
        "({q: document.querySelector('#q')?.value, url: location.search,"
        " count: document.documentElement.dataset.count, active: document.activeElement?.id"
        " || document.activeElement?.className, shown: (" + SHOWN_IDS + ")()})",
    )
    pytest.fail(f"not true within {timeout} s: {expression} (last {last!r}); page: {seen}")


def shown(ff, page: str) -> list[int]:
    return ff.evaluate(page, f"({SHOWN_IDS})()")


def wait_shown(ff, page: str, ids: list[int]) -> None:
    want = json.dumps(ids, separators=(",", ":"))
    wait_for(ff, page, f"JSON.stringify(({SHOWN_IDS})()) === {json.dumps(want)}")


def keys(ff, page: str, *names: str, modifier: str | None = None) -> None:
    actions = []
    if modifier:
        actions.append({"type": "keyDown", "value": KEYS[modifier]})
    for name in names:
        value = KEYS.get(name, name)
        actions += [{"type": "keyDown", "value": value}, {"type": "keyUp", "value": value}]
    if modifier:
        actions.append({"type": "keyUp", "value": KEYS[modifier]})
    ff.cmd(
        "input.performActions",
        context=page,
        actions=[{"type": "key", "id": "keyboard", "actions": actions}],
    )


def type_text(ff, page: str, text: str) -> None:
    keys(ff, page, *list(text))


def click(ff, page: str, selector: str, modifier: str | None = None) -> None:
    """A real mouse click in the middle of the element (scrolled into view first)."""
    box = ff.evaluate(
        page,
        f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
        " el.scrollIntoView({block: 'nearest'}); const r = el.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()",
    )
    pointer = [
        {"type": "pointerMove", "x": int(box[0]), "y": int(box[1])},
        {"type": "pointerDown", "button": 0},
        {"type": "pointerUp", "button": 0},
    ]
    sources = [{"type": "pointer", "id": "mouse", "actions": pointer}]
    if modifier:
        pause = [{"type": "pause"}] * 5  # the key stays down until after the button is up
        down = {"type": "keyDown", "value": KEYS[modifier]}
        key = [down, *pause, {"type": "keyUp", "value": KEYS[modifier]}]
        sources.insert(0, {"type": "key", "id": "keyboard", "actions": key})
        sources[1]["actions"] = [{"type": "pause"}, *pointer]
    ff.cmd("input.performActions", context=page, actions=sources)


def test_firefox_search_filters_detail_keyboard_and_zip(firefox, seeded, dirs):  # noqa: F811
    ff = firefox
    page = open_library(ff)
    wait_for(ff, page, f"document.documentElement.dataset.count === '{len(seeded)}'")
    assert shown(ff, page) == [r.id for r in seeded]
    wait_for(ff, page, f"({PICTURES_SHOWN})()")

    # Typed search, English then Chinese.
    click(ff, page, "#q")
    type_text(ff, page, "moon")
    wait_shown(ff, page, expect_ids(seeded, lambda r: "moon" in r.prompt.lower()))
    assert "q=moon" in ff.evaluate(page, "location.search")
    keys(ff, page, "Backspace", "Backspace", "Backspace", "Backspace")
    wait_for(ff, page, f"document.documentElement.dataset.count === '{len(seeded)}'")
    type_text(ff, page, "熊猫")
    wait_shown(ff, page, expect_ids(seeded, lambda r: "熊猫" in r.prompt))
    keys(ff, page, "Backspace", "Backspace")
    wait_for(ff, page, f"document.documentElement.dataset.count === '{len(seeded)}'")

    # A filter, then Back.
    ff.evaluate(
        page,
        "(() => { const s = document.querySelector('#kind'); s.value = 'uploaded';"
        " s.dispatchEvent(new Event('change')); return true; })()",
    )
    wait_shown(ff, page, expect_ids(seeded, lambda r: r.origin == "uploaded"))
    ff.evaluate(page, "(history.back(), true)")
    wait_for(ff, page, f"document.documentElement.dataset.count === '{len(seeded)}'")
    assert ff.evaluate(page, "document.querySelector('#kind').value") == ""

    # Keyboard: into the grid, along it, open, next, close.
    click(ff, page, "#q")
    keys(ff, page, "Enter")
    assert ff.evaluate(page, f"({FOCUSED_INDEX})()") == "0"
    keys(ff, page, "ArrowRight", "ArrowRight")
    assert ff.evaluate(page, f"({FOCUSED_INDEX})()") == "2"
    keys(ff, page, "Enter")
    third = seeded[2]
    wait_for(
        ff,
        page,
        f"document.querySelector('#detail-image').dataset.full === '{third.id}'"
        " && document.querySelector('#detail-image').naturalWidth > 0",
    )
    assert ff.evaluate(page, "document.querySelector('#detail-prompt').textContent") == third.prompt
    keys(ff, page, "ArrowRight")
    wait_for(
        ff,
        page,
        f"document.querySelector('#detail-image').dataset.full === '{seeded[3].id}'",
    )
    fields = ff.evaluate(page, "document.querySelector('#detail-fields').textContent")
    assert seeded[3].path in fields
    keys(ff, page, "Escape")
    wait_for(ff, page, "!document.querySelector('#detail').open")
    wait_for(ff, page, f"({FOCUSED_INDEX})() === '3'")

    # Select two with Ctrl+click and one with the keyboard, then a ZIP of them.
    click(ff, page, f'#grid .tile[data-id="{seeded[0].id}"]', modifier="Control")
    click(ff, page, f'#grid .tile[data-id="{seeded[4].id}"]', modifier="Control")
    keys(ff, page, " ")  # Space toggles the focused tile (the one just clicked: deselects it)
    keys(ff, page, "ArrowRight", " ")
    picked = sorted([seeded[0].id, seeded[5].id])
    wait_for(ff, page, "document.querySelector('#selected-count').textContent === '2 selected'")
    selected = ff.evaluate(
        page,
        "[...document.querySelectorAll('#grid .tile[aria-selected=true]')]"
        ".map((t) => Number(t.dataset.id))",
    )
    assert sorted(selected) == picked
    click(ff, page, "#bundle")
    path = wait_for(ff, page, "document.documentElement.dataset.bundle", timeout=60)
    assert Path(path).parent == dirs.output
    by_id = {r.id: r for r in seeded}
    want = sorted(Path(by_id[i].path).read_bytes() for i in picked)
    assert sorted(zip_images(path).values()) == want
