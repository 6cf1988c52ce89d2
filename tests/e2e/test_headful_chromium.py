"""Headful Chromium with real input: the keyboard shortcut, the context menu and the toolbar popup,
used the way a person uses them (xdotool key presses and clicks on what is on the screen), and the
system notification each save from outside the popup gives. Screenshots of the popup states and of
a notification are taken here (docs/screenshots/ with DSEXPORT_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import time

import pytest
from e2e_support import REPO, saved_files
from headful import context_menu_entry, popup_box, screen_point, toolbar_button

pytestmark = pytest.mark.e2e

DOCS_SHOTS = REPO / "docs" / "screenshots"


def shots_dir(tmp_path):
    folder = (
        DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path / "shots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def images_in(folder, since: set | None = None) -> list:
    return [p for p in saved_files(folder) if since is None or p not in since]


def test_shortcut_saves_every_image_and_a_notification_says_where(
    headful_chromium, desktop, dirs, sample, tmp_path
):
    # Arrange: a conversation open in a real window, nothing saved yet
    browser = headful_chromium()
    conv = sample.conversation("main")
    browser.open(conv.page_url)
    assert images_in(dirs.output) == []

    # Act: the default shortcut, pressed on the keyboard
    desktop.key("alt+shift+u")

    # Assert: one notification names the count and the folder; every image is on disk
    note = desktop.wait_for_notification(1)
    files = desktop.wait_for(lambda: images_in(dirs.output), what="saved files")
    assert note.title == f"Saved {len(files)} images with their prompts"
    assert "Pictures/DeepSeek/" in note.body and "Click to show it in its folder." in note.body
    assert len(files) >= len(conv.expected)
    desktop.screenshot(shots_dir(tmp_path) / "notification-en.png", box=(600, 0, 1280, 260))

    # Act: the person clicks the notification
    window = desktop.wait_for(desktop.notification_windows, what="the notification on screen")[0]
    x, y, w, h = desktop.geometry(window)
    desktop.click(x + w // 2, y + h // 2)

    # Assert: the helper was asked to show the file in its folder (the desktop's file manager is
    # replaced by a recorder on PATH, see headful.py) and the notification went away
    shown = desktop.wait_for(lambda: browser.revealed(), what="the file manager to be asked")
    assert any(str(dirs.output) in arg for arg in shown), shown
    desktop.wait_for(lambda: not desktop.notification_windows(), what="the notification to close")


def test_context_menu_saves_the_image_under_the_pointer(headful_chromium, desktop, dirs, sample):
    # Arrange
    browser = headful_chromium()
    conv = sample.conversation("main")
    page = browser.open(conv.page_url)
    target = page.evaluate(
        """() => {
             const img = [...document.querySelectorAll('img')].find((i) => i.naturalWidth > 100);
             img.id = 'e2e-target';
             img.scrollIntoView({block: 'center'});
             return img.currentSrc; }"""
    )
    time.sleep(0.3)  # the scroll above settles before the pointer moves there
    x, y = screen_point(page, "#e2e-target", browser.window)
    desktop.xdotool("mousemove", "--sync", str(x), str(y))
    time.sleep(0.3)  # hover effects settle, so the next screenshot differs only by the menu
    before = desktop.screenshot()

    # Act: right-click the image, then click our entry (found by its icon) in the menu
    desktop.click(x, y, button=3)
    desktop.click(*context_menu_entry(desktop, browser.window, before))

    # Assert: exactly one image saved, the one under the pointer, and the notification names it
    note = desktop.wait_for_notification(1)
    files = images_in(dirs.output)
    assert len(files) == 1, files
    assert note.title == "Saved with its prompt"
    assert files[0].name in note.body
    assert target


def test_toolbar_popup_saves_with_enter_and_reports_where_the_person_looks(
    headful_chromium, desktop, dirs, sample, tmp_path
):
    # Arrange
    browser = headful_chromium()
    conv = sample.conversation("main")
    browser.open(conv.page_url)

    # Act: click the toolbar button
    x, y = toolbar_button(desktop, browser.window)
    desktop.click(x, y)
    popup = browser.popup_page()
    assert popup is not None, "the toolbar button opened no popup"
    popup.wait_for("document.body.dataset.ready === '1'")
    box = popup_box(popup)

    # Assert: it fits: no scrolling page, the Save buttons in view, one scroll area
    layout = popup.evaluate(
        """(() => { const b = document.querySelector('#save-selected').getBoundingClientRect();
             return {docScroll: document.documentElement.scrollHeight - innerHeight,
                     height: innerHeight, saveBottom: b.bottom,
                     scrollers: [...document.querySelectorAll('*')].filter((e) => {
                       const s = getComputedStyle(e).overflowY;
                       const scrolls = s === 'auto' || s === 'scroll';
                       return scrolls && e.scrollHeight > e.clientHeight; }).length,
                     focused: document.activeElement.id}; })()"""
    )
    assert layout["height"] <= 600
    assert layout["docScroll"] <= 1, layout
    assert layout["saveBottom"] <= layout["height"], layout
    assert layout["scrollers"] <= 1, layout
    assert layout["focused"] == "save-selected", layout
    desktop.screenshot(shots_dir(tmp_path) / "popup-en.png", box=box)

    # Act: Enter, the way a keyboard user saves
    desktop.key("Return")

    # Assert: the summary at the top of the one scroll area, in view; no notification (the popup
    # reports its own saves)
    popup.wait_for("!document.querySelector('#summary').hidden", timeout=60)
    saved = popup.evaluate("document.querySelector('#sum-saved').textContent")
    assert saved == str(len(images_in(dirs.output)))
    top = popup.evaluate("document.querySelector('#summary').getBoundingClientRect().top")
    assert 0 <= top < 200
    assert desktop.notifications() == []
