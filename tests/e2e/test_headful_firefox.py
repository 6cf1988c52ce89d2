"""Headful Firefox ESR with real input, as test_headful_chromium.py: the keyboard shortcut (which
must not open one of Firefox's menus), the context menu, and the toolbar button, which Firefox
shows in the toolbar itself (manifest action.default_area), not hidden in the Extensions menu."""

from __future__ import annotations

import time

import pytest
from e2e_support import saved_files
from headful import context_menu_entry, shots_dir, toolbar_button

pytestmark = pytest.mark.e2e

ACCENT = (0x4D, 0x6B, 0xFE)


def accent_pixels(image) -> int:
    """How much of the accent blue is on the screen: an enabled primary button is a block of it."""
    return sum(count for count, rgb in image.convert("RGB").getcolors(1 << 24) if rgb == ACCENT)


def test_shortcut_saves_every_image_and_opens_no_menu(
    headful_firefox, desktop, dirs, sample, tmp_path
):
    # Arrange
    browser = headful_firefox()
    conv = sample.conversation("main")
    browser.open(conv.page_url)
    desktop.screenshot(tmp_path / "before.png")

    # Act
    desktop.key("alt+shift+u")

    # Assert: saved, and said so by a system notification
    note = desktop.wait_for_notification(1)
    files = saved_files(dirs.output)
    assert len(files) >= len(conv.expected)
    assert note.title == f"Saved {len(files)} images with their prompts", note
    desktop.screenshot(tmp_path / "after.png")


def test_context_menu_saves_the_image_under_the_pointer(headful_firefox, desktop, dirs, sample):
    browser = headful_firefox()
    conv = sample.conversation("main")
    context = browser.open(conv.page_url)
    browser.ff.evaluate(
        context,
        """(() => {
             const img = [...document.querySelectorAll('img')].find((i) => i.naturalWidth > 100);
             img.id = 'e2e-target';
             img.scrollIntoView({block: 'center'});
             return true; })()""",
    )
    time.sleep(0.3)
    x, y = browser.screen_point("#e2e-target")
    desktop.xdotool("mousemove", "--sync", str(x), str(y))
    time.sleep(0.3)
    before = desktop.screenshot()

    desktop.click(x, y, button=3)
    desktop.click(*context_menu_entry(desktop, browser.window, before))

    note = desktop.wait_for_notification(1)
    files = saved_files(dirs.output)
    assert len(files) == 1, files
    assert note.title == "Saved with its prompt"
    assert files[0].name in note.body


def test_toolbar_button_is_in_the_toolbar_and_its_popup_saves_with_enter(
    headful_firefox, desktop, dirs, sample, tmp_path
):
    browser = headful_firefox()
    conv = sample.conversation("main")
    browser.open(conv.page_url)
    before = desktop.screenshot()

    x, y = toolbar_button(desktop, browser.window)
    desktop.click(x, y)
    # The popup is ready when its Save button turns from faded to the full accent blue.
    region = desktop.wait_for(lambda: desktop.changed_region(before), what="the popup")
    desktop.wait_for(
        lambda: accent_pixels(desktop.screenshot(box=desktop.changed_region(before))) > 2500,
        what="the popup's Save button to be ready",
    )
    box = desktop.changed_region(before)
    desktop.screenshot(shots_dir(tmp_path) / "popup-firefox-en.png", box=box)

    # A click on "Save selected" (the popup's filled button).
    save = desktop.find_button(box)
    assert save, "no Save button in the popup"
    desktop.click(*save)

    files = desktop.wait_for(
        lambda: len(saved_files(dirs.output)) >= len(conv.expected) and saved_files(dirs.output),
        what="the saved files",
    )
    assert len(files) >= len(conv.expected)
    assert region
    time.sleep(1)
    desktop.screenshot(
        shots_dir(tmp_path) / "popup-firefox-done-en.png", box=desktop.changed_region(before)
    )
    assert desktop.notifications() == [], "a save from the popup is reported in the popup"
