"""Screenshots of what a person sees, for the README (docs/screenshots/*.png): the real toolbar
popup of headful Chromium, opened by a click on its button, in the states a person meets (the
list, saving, done with failures, the helper missing), a system notification after a shortcut
save, and the options page; in English and Chinese.

Each also checks what it shows, so a broken state does not become a pretty picture.
DSEXPORT_UPDATE_SCREENSHOTS=1 writes them to docs/screenshots/; otherwise they go to the test's
temporary folder, so a test run leaves the tree clean."""

from __future__ import annotations

import json
import os

import pytest
from e2e_support import EXTENSION_DIR, REPO, saved_files
from headful import open_popup, popup_box, popup_point

pytestmark = pytest.mark.e2e

DOCS_SHOTS = REPO / "docs" / "screenshots"
#: The popup opened as a page (``popup.html?tab=ID``, test_screenshots_sweep.py): its 600 px
#: column and a margin.
POPUP_VIEWPORT = {"width": 460, "height": 640}
LOCALES = {"en": "en", "zh-CN": "zh_CN"}


def shots(tmp_path):
    folder = (
        DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path / "shots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def messages(lang: str) -> dict[str, str]:
    path = EXTENSION_DIR / "_locales" / LOCALES[lang] / "messages.json"
    return {k: v["message"] for k, v in json.loads(path.read_text("utf-8")).items()}


def text(popup, selector: str) -> str:
    return popup.evaluate(f"document.querySelector({json.dumps(selector)}).textContent")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_popup_states_and_a_notification(
    headful_chromium, desktop, sample, sample_server, dirs, lang, tmp_path
):
    suffix = "en" if lang == "en" else "zh"
    words = messages(lang)
    folder = shots(tmp_path)
    browser = headful_chromium(lang=lang)

    # The list: every image of the conversation, in the person's language
    browser.open(sample.conversation("main").page_url)
    popup = open_popup(desktop, browser)
    assert text(popup, "#save-all") == words["saveAll"]
    popup.wait_for("[...document.querySelectorAll('#grid img')].every((i) => i.complete)")
    desktop.screenshot(folder / f"popup-{suffix}.png", box=popup_box(popup))
    desktop.key("Escape")

    # Saving: a slow network keeps 50 images in progress long enough to look at
    browser.open(sample.conversation("batch50").page_url)
    sample_server.image_delay = 0.15
    try:
        popup = open_popup(desktop, browser)
        desktop.click(*popup_point(popup, "#save-all"))
        popup.wait_for(
            "(() => { const p = document.querySelector('#progress');"
            " return !document.querySelector('#progress-box').hidden && p.value > 0.15"
            " && p.value < 0.6; })()",
            timeout=60,
        )
        desktop.screenshot(folder / f"popup-progress-{suffix}.png", box=popup_box(popup))
    finally:
        sample_server.image_delay = 0
    popup.wait_for("!document.querySelector('#summary').hidden", timeout=120)
    assert text(popup, "#sum-saved") == "50"
    desktop.key("Escape")

    # Done with failures: broken thumbnails are not pre-selected; "Save all" tries them anyway,
    # and each reason is said once, in plain words, with "Retry failed"
    conv = sample.conversation("broken")
    browser.open(conv.page_url)
    popup = open_popup(desktop, browser)
    popup.wait_for(f"document.querySelectorAll('.thumb.broken').length === {len(conv.broken)}")
    selected = popup.evaluate("document.querySelector('#selected-count').textContent")
    assert selected == f"{len(conv.expected)} / {len(conv.expected) + len(conv.broken)}"
    desktop.click(*popup_point(popup, "#save-all"))
    # Apart, so a failure says whether the click started nothing or the save never ended.
    popup.wait_for(
        "!document.querySelector('#progress-box').hidden"
        " || !document.querySelector('#summary').hidden",
        timeout=15,
    )
    popup.wait_for("!document.querySelector('#summary').hidden", timeout=60)
    failures = popup.evaluate(
        "[...document.querySelectorAll('#sum-failures > li')].map((li) => li.textContent)"
    )
    # Both fail for the same reason here (the site sends no picture): said once, naming both.
    assert len(failures) == 1, failures
    for image in conv.broken:
        assert image.prompt in failures[0], failures
    assert "Failed to fetch" not in failures[0]
    retry = text(popup, "#retry-failed")
    assert retry == words["retryFailed"].replace("$COUNT$", str(len(conv.broken)))
    if suffix == "zh":
        reason = failures[0].split("“")[0].replace("DeepSeek", "")
        assert not any(c.isascii() and c.isalpha() for c in reason), failures
    desktop.screenshot(folder / f"popup-failures-{suffix}.png", box=popup_box(popup))
    desktop.key("Escape")

    # A notification: the shortcut, from the keyboard
    browser.open(sample.conversation("main").page_url)
    before = len(desktop.notifications())
    desktop.key("alt+shift+u")
    note = desktop.wait_for_notification(before + 1)
    assert note.title.startswith(words["notifySavedManyTitle"].split("$COUNT$")[0])
    window = desktop.wait_for(desktop.notification_windows, what="the notification")[-1]
    x, y, w, h = desktop.geometry(window)
    desktop.screenshot(
        folder / f"notification-{suffix}.png", box=(x - 12, y - 12, x + w + 12, y + h + 12)
    )
    assert saved_files(dirs.output)

    # The options page, with the folder a person would see rather than this test's HOME
    options = browser.context.new_page()
    options.set_viewport_size({"width": 900, "height": 1000})
    from e2e_support import EXTENSION_ID

    options.goto(f"chrome-extension://{EXTENSION_ID}/options/options.html")
    options.wait_for_function(
        "() => !document.querySelector('#fields').disabled"
        " && document.querySelector('#preview').textContent"
        " && document.querySelector('#shortcut-keys').textContent",
        timeout=15_000,
    )
    assert options.locator("#shortcut-keys").inner_text() == "Alt+Shift+U"
    assert options.locator("#preview").inner_text().split("/")[-1].startswith("20")
    options.evaluate(
        "(home) => { const i = document.querySelector('#output_dir');"
        " i.value = i.value.replace(home, '/home/you'); }",
        str(dirs.home),
    )
    options.screenshot(path=str(folder / f"options-{suffix}.png"), full_page=True)


def test_popup_when_the_helper_is_missing(headful_chromium, desktop, sample, tmp_path):
    browser = headful_chromium(install=False)
    browser.open(sample.conversation("main").page_url)
    popup = open_popup(desktop, browser)
    popup.wait_for("!document.querySelector('#host-box').hidden")
    popup.wait_for("document.body.dataset.ready === '1'")
    words = messages("en")
    assert text(popup, "#host-title") == words["hostMissingTitle"]
    assert text(popup, "#install-command") == "bash install/install.sh"
    # Copying the command answers right under the button, not at the bottom of the popup.
    desktop.click(*popup_point(popup, "#copy-command"))
    popup.wait_for("document.querySelector('#copy-command-status').textContent !== ''")
    below = popup.evaluate(
        "document.querySelector('#copy-command-status').getBoundingClientRect().top"
        " - document.querySelector('#copy-command').getBoundingClientRect().bottom"
    )
    assert 0 <= below < 40
    assert popup.evaluate("document.querySelector('#save-all').disabled") is True
    desktop.screenshot(shots(tmp_path) / "popup-host-missing-en.png", box=popup_box(popup))
