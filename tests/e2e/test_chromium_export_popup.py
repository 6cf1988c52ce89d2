"""The popup's "Export conversation" as a person uses it, in English and Chinese: open the export
options, switch to a folder, click the button (real input), watch the progress bar, read the
summary; the page's context menu has the entry too. Screenshots go to docs/screenshots/ with
DSEXPORT_UPDATE_SCREENSHOTS=1 (else to the test's folder), and each is checked before it is kept."""

from __future__ import annotations

import json
import os

import pytest
from e2e_support import EXTENSION_ID, REPO

pytestmark = pytest.mark.e2e

DOCS_SHOTS = REPO / "docs" / "screenshots"
LOCALES = REPO / "extension" / "_locales"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_popup_exports_the_conversation(chromium, sample, sample_server, dirs, lang, tmp_path):
    suffix = "en" if lang == "en" else "zh"
    words = json.loads(
        (LOCALES / ("en" if lang == "en" else "zh_CN") / "messages.json").read_text()
    )
    shots = DOCS_SHOTS if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    conv = sample.conversation("rich")
    browser = chromium(lang=lang)
    tab = browser.open("rich")
    browser.scan(tab, min_images=len(conv.expected))

    popup = browser.context.new_page()
    popup.set_viewport_size({"width": 460, "height": 760})
    popup.goto(f"chrome-extension://{EXTENSION_ID}/popup/popup.html?tab={tab.id}")
    button = popup.locator("#export")
    button.wait_for(state="visible", timeout=15_000)
    assert button.inner_text().strip() == words["exportConversation"]["message"]
    popup.locator("#export-box summary").click()
    popup.locator("#export-container").select_option("folder")
    popup.locator("#export-sources").uncheck()
    assert popup.locator("#export-template").input_value() == "{date}/{conversation}.zip"
    popup.screenshot(path=str(shots / f"popup-export-{suffix}.png"), full_page=True)

    sample_server.image_delay = 0.4  # long enough to see the bar move
    # Every value the bar takes, as a person watching it would see them.
    popup.evaluate(
        """() => {
             window.__bar = [];
             const bar = document.querySelector('#progress');
             const look = () => {
               if (!document.querySelector('#progress-box').hidden) window.__bar.push(bar.value);
               requestAnimationFrame(look);
             };
             look();
           }"""
    )
    try:
        button.click()
        popup.wait_for_function(
            "() => !document.querySelector('#progress-box').hidden", timeout=30_000
        )
        label = popup.locator("#progress-label").inner_text()
        assert label in (words["exporting"]["message"], words["saving"]["message"])
    finally:
        sample_server.image_delay = 0
    popup.locator("#sum-export").wait_for(state="visible", timeout=120_000)
    text = popup.locator("#sum-export").inner_text()
    assert text.startswith(words["exportSaved"]["message"]), text
    bar = popup.evaluate("window.__bar")
    moved = [v for n, v in enumerate(bar) if n == 0 or v != bar[n - 1]]
    assert len(moved) >= 3, f"the bar hardly moved: {moved}"
    assert moved == sorted(moved), f"the bar went back during the export: {moved}"
    popup.screenshot(path=str(shots / f"popup-exported-{suffix}.png"), full_page=True)

    folders = [p for p in dirs.output.rglob("conversation.html")]
    assert len(folders) == 1, folders
    folder = folders[0].parent
    assert folder.name in text and folder.is_dir()  # a folder, as chosen
    data = json.loads((folder / "conversation.json").read_text())
    assert data["options"] == {"reasoning": True, "sources": False}
    page = (folder / "conversation.html").read_text()
    assert words["exportLabelUser"]["message"] in page  # the archive speaks the user's language
    # The choice is remembered for the next export (and the context menu's).
    again = browser.context.new_page()
    again.goto(f"chrome-extension://{EXTENSION_ID}/popup/popup.html?tab={tab.id}")
    again.locator("#export").wait_for(state="visible", timeout=15_000)
    assert again.locator("#export-container").input_value() == "folder"
    assert not again.locator("#export-sources").is_checked()


def test_the_page_context_menu_has_export(chromium):
    browser = chromium()
    page = browser.extension_page("popup/popup.html")
    items = page.evaluate(
        """async () => {
             const mod = await import('/background/menus.js');
             return mod.MENU_ITEMS.map((m) => ({id: m.id, key: m.titleKey, contexts: m.contexts,
                                                title: chrome.i18n.getMessage(m.titleKey)}));
           }"""
    )
    entry = next(i for i in items if i["id"] == "dsexport-export-conversation")
    assert entry["contexts"] == ["page"]
    assert entry["title"] == "Export conversation (text and images)"
