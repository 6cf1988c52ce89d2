"""What a person sees of "Save all" (issue: the save path must be invisible to the browser's
download UI): headful Chromium and Firefox ESR on a private X display; in Chromium the save is
started with the real keyboard shortcut (Alt+Shift+U typed by xdotool; see the Firefox case for
why not there); screenshots of the whole screen before, during and after. The toolbar and the
area under it, where a download button and bubble appear, must not change; the person's own
download right after must change them (so the check can fail).
After the 50-image save nothing is left in Downloads, in the browser's download list, or (Firefox)
in places.sqlite: no visit of type 7 (download), no ``downloads/*`` annotation, no image URL.

Screenshots go to the test's temporary folder; with DSEXPORT_UPDATE_SCREENSHOTS=1 the one from
the middle of the save and the one of the person's own download go to docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from e2e_support import (
    EXTENSION_DIR,
    GECKO_ID,
    REPO,
    extension_worker,
    install_firefox_host,
    install_host,
    require_module,
    require_tool,
    saved_files,
    snapshot,
)
from xserver import SCREEN, x_display

from dsexport.demo.server import chromium_args

pytestmark = pytest.mark.e2e

#: Slows each image response, so the save lasts long enough to be looked at while it runs.
IMAGE_DELAY = 0.1
#: Where a download button (and the bubble or panel under it) would appear: the right end of the
#: toolbar and the area below it, in screen pixels (the browser window fills the screen).
TOOLBAR = (SCREEN[0] - 330, 30, SCREEN[0], 96)
BELOW = (SCREEN[0] - 470, 96, SCREEN[0], 260)


def _shots(tmp_path: Path) -> Path:
    if os.environ.get("DSEXPORT_UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
    else:
        folder = tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _changed(a, b, box) -> float:
    """Share of the pixels in ``box`` that differ between two screenshots."""
    from PIL import ImageChops

    diff = ImageChops.difference(a.crop(box).convert("RGB"), b.crop(box).convert("RGB"))
    # The largest channel difference per pixel; small ones are antialiasing, not a new button.
    strongest = diff.convert("L").point(lambda v: 255 if v > 8 else 0)
    return strongest.histogram()[255] / (diff.width * diff.height)


def _watch_save(display, done, shots: Path, prefix: str) -> tuple[list, float]:
    """Screenshots every ~150 ms until ``done()``; → (the ones taken while saving, seconds)."""
    frames = []
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < 120, "the save did not finish within 2 minutes"
        frames.append(display.grab())
        time.sleep(0.15)
    elapsed = time.monotonic() - started
    if frames:  # one frame from the middle of the save is enough to look at
        frames[len(frames) // 2].save(shots / f"{prefix}-during.png")
    return frames, elapsed


def _assert_nothing_showed(before, frames, after):
    assert len(frames) >= 2, "the save ended before the screen could be looked at while it ran"
    for n, frame in enumerate([*frames, after]):
        for box, what in ((TOOLBAR, "the toolbar"), (BELOW, "the area under the toolbar")):
            share = _changed(before, frame, box)
            assert share < 0.01, f"{what} changed in screenshot {n} ({share:.1%} of its pixels)"


def _complete(downloads: list[dict]) -> list[dict]:
    return [d for d in downloads if d["state"] == "complete"]


def _staged_saves(home: Path) -> int:
    log = home / ".local" / "state" / "dsexport" / "log" / "host.log"
    text = log.read_text("utf-8", "replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if "'save_download'" in line and " ok in " in line)


# --- Chromium -----------------------------------------------------------------------------------


@pytest.fixture
def headful_chromium(dirs, sample_server):
    require_module("playwright")
    require_tool("xdotool")
    from playwright.sync_api import sync_playwright

    from dsexport.demo.chromium import find_chromium

    install_host(dirs.profile)
    prefs = {
        "download": {"default_directory": str(dirs.downloads), "prompt_for_download": False},
        "translate": {"enabled": False},  # no "translate this page?" bubble over a Chinese page
    }
    (dirs.profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    with x_display() as display, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(dirs.profile),
            executable_path=find_chromium() or require_tool("chromium"),
            headless=False,
            env=display.env(),
            args=[
                "--no-sandbox",
                "--test-type",  # no "unsupported command-line flag" bar over the page
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-position=0,0",
                f"--window-size={SCREEN[0]},{SCREEN[1]}",
                f"--load-extension={EXTENSION_DIR}",
                f"--disable-extensions-except={EXTENSION_DIR}",
                *chromium_args(sample_server.port),
            ],
            ignore_https_errors=True,
            no_viewport=True,
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            # Playwright sends downloads to its own folder; give them back to Chromium.
            context.new_cdp_session(page).send(
                "Browser.setDownloadBehavior", {"behavior": "default"}
            )
            worker = extension_worker(context, timeout=20)
            yield display, context, page, worker
        finally:
            with contextlib.suppress(Exception):
                context.close()


def test_chromium_save_all_shows_no_download_ui_and_leaves_nothing(
    headful_chromium, sample, sample_server, dirs, tmp_path
):
    display, _context, page, worker = headful_chromium
    shots = _shots(tmp_path)
    conv = sample.conversation("batch50")
    (dirs.downloads / "notes.txt").write_text("the person's own file\n")
    before_files = snapshot(dirs.downloads)
    page.goto(conv.page_url, wait_until="load")
    page.wait_for_selector("html[data-sample-ready]", state="attached", timeout=15_000)
    tab = worker.evaluate(
        "async (u) => (await chrome.tabs.query({})).find((t) => (t.url || '').startsWith(u)).id",
        conv.page_url,
    )
    deadline = time.monotonic() + 20
    while len(worker.evaluate(f"globalThis.dsexport.scanTab({tab})")["images"]) < 50:
        assert time.monotonic() < deadline, "the extension did not find the 50 images"
        time.sleep(0.5)
    page.mouse.move(5, SCREEN[1] - 5)  # no hover highlight in the toolbar
    time.sleep(1)
    before = display.grab(tmp_path / "save-chromium-before.png")

    sample_server.image_delay = IMAGE_DELAY
    try:
        display.focus("chromium")
        display.keys("alt+shift+u")  # "Save all", as a person presses it

        def done() -> bool:
            stored = worker.evaluate("chrome.storage.session.get('lastSummaries')")
            return str(tab) in (stored.get("lastSummaries") or {})

        frames, _ = _watch_save(display, done, shots, "save-chromium")
    finally:
        sample_server.image_delay = 0
    time.sleep(1.5)
    after = display.grab(tmp_path / "save-chromium-after.png")

    summary = worker.evaluate("chrome.storage.session.get('lastSummaries')")["lastSummaries"][
        str(tab)
    ]["summary"]
    assert len(summary["saved"]) == 50 and summary["failed"] == [], summary["failed"]
    assert len(saved_files(dirs.output)) == 50
    assert _staged_saves(dirs.home) == 50, "the images did not go through staged downloads"
    _assert_nothing_showed(before, frames, after)
    assert worker.evaluate("chrome.downloads.search({})") == [], "entries left in the list"
    assert snapshot(dirs.downloads) == before_files, "Downloads changed"

    # The person's own download right after: the bubble and the button show, as ever.
    page.goto(sample.conversation("main").page_url, wait_until="load")
    page.wait_for_selector("html[data-sample-ready]", state="attached", timeout=15_000)
    page.evaluate("document.querySelector('.ds-sample-download').click()")
    deadline = time.monotonic() + 20
    while not [
        d for d in worker.evaluate("chrome.downloads.search({})") if d["state"] == "complete"
    ]:
        assert time.monotonic() < deadline, "the person's download did not complete"
        time.sleep(0.2)
    time.sleep(1)
    own = display.grab(shots / "save-chromium-own-download.png")
    assert _changed(after, own, TOOLBAR) > 0.01, "a download button should show for the person's"
    listed = worker.evaluate("chrome.downloads.search({})")
    upload = sample.conversation("main").turns[0].uploads[0]
    assert [Path(d["filename"]).name for d in listed] == [upload.file_name], listed


# --- Firefox ------------------------------------------------------------------------------------


@pytest.fixture
def headful_firefox(dirs, sample_server, tmp_path):
    from firefox import EXTENSION_UUID, ConnectProxy, Firefox, write_profile

    exe = shutil.which("firefox-esr") or shutil.which("firefox") or require_tool("firefox-esr")
    require_tool("xdotool")
    install_firefox_host(dirs.home)
    proxy = ConnectProxy(sample_server.port)
    profile = tmp_path / "firefox-profile"
    write_profile(profile, proxy_port=proxy.port, downloads=dirs.downloads)
    with (profile / "user.js").open("a") as prefs:
        # A fresh profile: no first-run pages or sidebar over the window.
        for name, value in (
            ("browser.startup.homepage_override.mstone", "ignore"),
            ("browser.aboutwelcome.enabled", False),
            ("sidebar.revamp", False),
            ("browser.translations.automaticallyPopup", False),
        ):
            prefs.write(f"user_pref({json.dumps(name)}, {json.dumps(value)});\n")
    with x_display() as display:
        browser = Firefox(exe, profile, display.env(), tmp_path / "firefox.log", headless=False)
        try:
            installed = browser.cmd(
                "webExtension.install",
                extensionData={"type": "path", "path": str(EXTENSION_DIR)},
            )
            assert installed["extension"] == GECKO_ID
            yield display, browser, EXTENSION_UUID, profile
        finally:
            browser.close()
            proxy.close()


def _places(profile: Path) -> dict:
    """Downloads as Firefox's history keeps them (read after Firefox has closed)."""
    with sqlite3.connect(f"file:{profile / 'places.sqlite'}?mode=ro", uri=True) as db:
        visits = db.execute(
            "SELECT p.url FROM moz_historyvisits v JOIN moz_places p ON p.id = v.place_id"
            " WHERE v.visit_type = 7"
        ).fetchall()
        annos = db.execute(
            "SELECT p.url, n.name FROM moz_annos a JOIN moz_anno_attributes n"
            " ON n.id = a.anno_attribute_id JOIN moz_places p ON p.id = a.place_id"
            " WHERE n.name LIKE 'downloads/%'"
        ).fetchall()
        urls = {row[0] for row in db.execute("SELECT url FROM moz_places")}
    return {"download_visits": [v[0] for v in visits], "annos": annos, "urls": urls}


def test_firefox_save_all_shows_no_download_ui_and_leaves_nothing_in_list_or_history(
    headful_firefox, sample, sample_server, dirs, tmp_path
):
    from test_firefox import _extension_page, _scan, _tab_id

    display, ff, _uuid, profile = headful_firefox
    shots = _shots(tmp_path)
    conv = sample.conversation("batch50")
    (dirs.downloads / "notes.txt").write_text("the person's own file\n")
    before_files = snapshot(dirs.downloads)
    page = _extension_page(ff)
    tab = ff.new_tab(conv.page_url)
    deadline = time.monotonic() + 20
    while ff.evaluate(tab, "document.documentElement.dataset.sampleReady || ''") != "1":
        assert time.monotonic() < deadline, "the sample page did not render"
        time.sleep(0.2)
    tab_id = _tab_id(ff, page, conv.page_url)
    _scan(ff, page, tab_id, 50)
    ff.cmd("browsingContext.activate", context=tab)
    display.focus("firefox")
    display.xdotool("mousemove", str(SCREEN[0] // 2), str(SCREEN[1] - 5))
    time.sleep(1.5)
    before = display.grab(tmp_path / "save-firefox-before.png")

    sample_server.image_delay = IMAGE_DELAY
    try:
        # Firefox ignored the extension's shortcut when xdotool typed it under Xvfb (Ctrl+L
        # works), so this one starts "Save all" as the popup does, with a message.
        fields = json.dumps({"tabId": tab_id, "options": {}})
        ff.evaluate(page, f"(window.__job = window.__call('saveTab', {fields}), 1)")

        def done() -> bool:
            stored = ff.evaluate(page, "browser.storage.session.get('lastSummaries')")
            return str(tab_id) in (stored.get("lastSummaries") or {})

        frames, _ = _watch_save(display, done, shots, "save-firefox")
    finally:
        sample_server.image_delay = 0
    time.sleep(1.5)
    after = display.grab(tmp_path / "save-firefox-after.png")

    stored = ff.evaluate(page, "browser.storage.session.get('lastSummaries')")
    summary = stored["lastSummaries"][str(tab_id)]["summary"]
    assert len(summary["saved"]) == 50 and summary["failed"] == [], summary["failed"]
    assert len(saved_files(dirs.output)) == 50
    assert _staged_saves(dirs.home) == 0, "Firefox must not stage through its downloader"
    _assert_nothing_showed(before, frames, after)
    assert ff.evaluate(page, "browser.downloads.search({})") == [], "entries in the list"
    assert snapshot(dirs.downloads) == before_files, "Downloads changed"

    # The person's own download: Firefox shows its button, lists it and records it in history.
    main = ff.new_tab(sample.conversation("main").page_url)
    ff.evaluate(main, "document.querySelector('.ds-sample-download').click()")
    deadline = time.monotonic() + 20
    while not [
        d for d in ff.evaluate(page, "browser.downloads.search({})") if d["state"] == "complete"
    ]:
        assert time.monotonic() < deadline, "the person's download did not complete"
        time.sleep(0.2)
    time.sleep(1.5)
    own = display.grab(shots / "save-firefox-own-download.png")
    assert _changed(after, own, TOOLBAR) > 0.01, "a download button should show for the person's"
    ff.close()

    places = _places(profile)
    image_urls = {e.url for e in conv.expected}
    upload = sample.conversation("main").turns[0].uploads[0]
    assert places["download_visits"] == [upload.url("r")], places["download_visits"]
    assert {name for _url, name in places["annos"]} <= {
        "downloads/destinationFileURI",
        "downloads/metaData",
    }
    assert {url for url, _name in places["annos"]} == {upload.url("r")}, places["annos"]
    assert not image_urls & places["urls"], "an image of the save is in the history"
