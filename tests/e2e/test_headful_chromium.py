"""Headful Chromium with real input: the keyboard shortcut, the context menu and the toolbar popup,
used the way a person uses them (xdotool key presses and clicks on what is on the screen), and the
system notification each save from outside the popup gives. Screenshots go to the test's folder; the
README's are test_screenshots.py's."""

from __future__ import annotations

import json
import time

import pytest
from e2e_support import saved_files
from headful import context_menu_entry, popup_box, screen_point, shots_dir, toolbar_button

pytestmark = pytest.mark.e2e


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


def test_a_download_outside_the_known_folders_is_explained_once_and_a_click_adds_it(
    headful_chromium, desktop, dirs, sample
):
    from dsexport import read_metadata

    # Arrange: the person's browser saves downloads to the Desktop, which automatic capture may
    # not change until the person says so
    elsewhere = dirs.home / "Desktop"
    elsewhere.mkdir()
    browser = headful_chromium(download_dir=elsewhere)
    conv = sample.conversation("main")
    upload = conv.turns[0].uploads[0]
    page = browser.open(conv.page_url)
    # DeepSeek's image viewer, as a click on the thumbnail opens it (the sample page has no
    # handler for that click), with its download link
    page.evaluate(
        "(() => { document.querySelector('.ds-modal-wrapper').hidden = false;"
        " document.querySelector('.ds-sample-download').scrollIntoView({block: 'center'}); })()"
    )
    time.sleep(0.3)

    # Act: the viewer's download link, clicked
    desktop.click(*screen_point(page, ".ds-sample-download", browser.window))

    # Assert: said once, with where the file is and the one-click answer
    note = desktop.wait_for_notification(1)
    landed = elsewhere / upload.file_name
    assert landed.is_file()
    assert note.title == f"Prompt not added to {upload.file_name}", note
    assert str(elsewhere) in note.body or "/Desktop" in note.body, note
    assert "Click to add this folder." in note.body
    assert "download_dirs" not in note.body

    # Act: the click
    window = desktop.wait_for(desktop.notification_windows, what="the notification")[0]
    x, y, w, h = desktop.geometry(window)
    desktop.click(x + w // 2, y + h // 2)

    # Assert: the folder is allowed from now on and the file has its prompt
    done = desktop.wait_for_notification(2)
    assert done.title == "Folder added", done
    assert upload.file_name in done.body
    meta = read_metadata(landed)
    assert meta is not None and meta.prompt, "the download did not get its prompt"
    config = json.loads((dirs.home / ".config" / "dsexport" / "config.json").read_text())
    assert str(elsewhere) in config["download_dirs"]


def test_the_popup_keeps_the_format_and_shows_each_conversation_its_own_last_save(
    headful_chromium, desktop, dirs, sample
):
    from headful import open_popup, popup_point

    # Arrange: a save in one conversation
    browser = headful_chromium()
    main, broken = sample.conversation("main"), sample.conversation("broken")
    browser.open(main.page_url)
    popup = open_popup(desktop, browser)

    # Act: choose PNG from the format list with the keyboard, then save
    desktop.click(*popup_point(popup, "#format"))
    desktop.key("Down")
    desktop.key("Return")
    popup.wait_for("document.querySelector('#format').value === 'png'")
    desktop.click(*popup_point(popup, "#save-all"))
    popup.wait_for("!document.querySelector('#summary').hidden", timeout=60)
    desktop.key("Escape")

    # Assert: another conversation shows no summary of that save, and PNG is still chosen
    browser.open(broken.page_url)
    popup = open_popup(desktop, browser)
    assert popup.evaluate("document.querySelector('#summary').hidden") is True
    assert popup.evaluate("document.querySelector('#format').value") == "png"
    desktop.key("Escape")

    # Assert: back in the first conversation, its save is shown, with when it happened
    browser.open(main.page_url)
    popup = open_popup(desktop, browser)
    popup.wait_for("!document.querySelector('#summary').hidden")
    assert popup.evaluate("document.querySelector('#sum-when').textContent") == "just now"
    config = json.loads((dirs.home / ".config" / "dsexport" / "config.json").read_text())
    assert config["format"] == "png"
    assert all(p.suffix == ".png" or p.suffix == ".svg" for p in images_in(dirs.output))
