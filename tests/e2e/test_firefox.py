"""End to end in Debian's Firefox ESR (headless, WebDriver BiDi): save every image of the sample
conversation, and automatic capture of a page download, with the real host registered in
~/.mozilla/native-messaging-hosts of the test's HOME by the real installer."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from e2e_support import (
    EXTENSION_DIR,
    GECKO_ID,
    RASTER,
    assert_same_image_data,
    embedded_prompt,
    embedded_prompts,
    install_firefox_host,
    match_original,
    require_tool,
    saved_files,
    snapshot,
    sniff,
)
from firefox import EXTENSION_UUID, BidiError, ConnectProxy, Firefox, write_profile

pytestmark = pytest.mark.e2e


def _firefox_exe() -> str:
    for name in ("firefox-esr", "firefox"):
        if shutil.which(name):
            return require_tool(name)
    return require_tool("firefox-esr")


@pytest.fixture
def firefox(dirs, sample_server, tmp_path):
    yield from running_firefox(dirs, sample_server, tmp_path)


def running_firefox(dirs, sample_server, tmp_path):
    """Firefox ESR with the helper installed and the unpacked extension loaded, its profile
    downloading to ``dirs.downloads``; a generator for fixtures to ``yield from``."""
    exe = _firefox_exe()
    install_firefox_host(dirs.home)
    proxy = ConnectProxy(sample_server.port)
    profile = tmp_path / "firefox-profile"
    write_profile(profile, proxy_port=proxy.port, downloads=dirs.downloads)
    browser = Firefox(exe, profile, dict(os.environ), tmp_path / "firefox.log")
    try:
        installed = browser.cmd(
            "webExtension.install", extensionData={"type": "path", "path": str(EXTENSION_DIR)}
        )
        assert installed["extension"] == GECKO_ID
        yield browser
    finally:
        browser.close()
        proxy.close()


def _open_conversation(ff: Firefox, url: str, fragment: str = "") -> str:
    tab = ff.new_tab(url + fragment)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if ff.evaluate(tab, "document.documentElement.dataset.sampleReady || ''") == "1":
            return tab
        time.sleep(0.2)
    pytest.fail(f"the sample page {url} did not render in Firefox")


def _extension_page(ff: Firefox) -> str:
    """An extension page to call the background from, as the popup does."""
    page = ff.open_privileged_tab(f"moz-extension://{EXTENSION_UUID}/popup/popup.html")
    # The new tab briefly holds its initial blank document; wait for the extension page proper
    # (its extension APIs present) before loading the module that captures them.
    ready = (
        "document.readyState === 'complete' && location.protocol === 'moz-extension:'"
        " && typeof browser === 'object' && !!browser.runtime"
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            if ff.evaluate(page, ready):
                break
        except BidiError:  # the document is being replaced
            pass
        if time.monotonic() > deadline:
            pytest.fail("the extension page did not load in Firefox")
        time.sleep(0.2)
    ff.evaluate(page, "import('/shared/messages.js').then((m) => { window.__call = m.call; })")
    return page


def _call(ff: Firefox, page: str, name: str, fields: dict, timeout: float = 120):
    import json

    return ff.evaluate(page, f"window.__call({json.dumps(name)}, {json.dumps(fields)})", timeout)


def _tab_id(ff: Firefox, page: str, url: str) -> int:
    return ff.evaluate(
        page,
        f"browser.tabs.query({{}}).then((ts) => ts.find((t) => (t.url || '')"
        f".startsWith('{url}')).id)",
    )


def _scan(ff: Firefox, page: str, tab_id: int, min_images: int) -> dict:
    deadline = time.monotonic() + 20
    while True:
        scan = _call(ff, page, "scanTab", {"tabId": tab_id})
        if len(scan["images"]) >= min_images or time.monotonic() > deadline:
            return scan
        time.sleep(0.5)


def test_firefox_saves_every_image_of_a_conversation(firefox, sample, dirs):
    exe = require_tool("exiftool")
    conv = sample.conversation("main")
    _open_conversation(firefox, conv.page_url)
    page = _extension_page(firefox)
    tab_id = _tab_id(firefox, page, conv.page_url)
    _scan(firefox, page, tab_id, len(conv.expected))

    summary = _call(firefox, page, "saveTab", {"tabId": tab_id, "options": {}})

    assert summary["failed"] == [], summary["failed"]
    found: dict[str, Path] = {}
    for item in summary["saved"]:
        path = Path(item["path"])
        assert dirs.output in path.parents
        data = path.read_bytes()
        if sniff(data) not in RASTER:
            continue
        original = match_original(data, conv.expected)
        assert original is not None and original.url not in found, path.name
        assert_same_image_data(data, original)
        found[original.url] = path
    assert set(found) == {e.url for e in conv.expected}
    by_url = {e.url: e for e in conv.expected}
    embedded_prompts({p: by_url[u].prompts for u, p in found.items()}, exe)
    assert set(saved_files(dirs.output)) == {Path(s["path"]) for s in summary["saved"]}


def test_firefox_automatic_capture_of_a_page_download(firefox, sample, dirs):
    exe = require_tool("exiftool")
    from imagebytes import make_image

    conv = sample.conversation("main")
    upload = conv.turns[0].uploads[0]
    target = next(e for e in conv.expected if e.url == upload.url("r"))
    (dirs.downloads / "holiday.png").write_bytes(make_image("png"))
    (dirs.downloads / "notes.txt").write_text("keep me\n")
    before = snapshot(dirs.downloads)

    tab = _open_conversation(firefox, conv.page_url)
    page = _extension_page(firefox)
    tab_id = _tab_id(firefox, page, conv.page_url)
    _scan(firefox, page, tab_id, len(conv.expected))  # the user looks at the page first
    firefox.evaluate(tab, "document.querySelector('.ds-sample-download').click()")

    landed = dirs.downloads / upload.file_name
    deadline = time.monotonic() + 30
    prompt = None
    while time.monotonic() < deadline and prompt is None:
        if landed.is_file() and not list(dirs.downloads.glob("*.part")):
            try:
                prompt = embedded_prompt(landed, target.prompts, exe)
            except AssertionError:
                time.sleep(0.5)
        else:
            time.sleep(0.5)
    assert landed.is_file(), f"the download did not land: {sorted(dirs.downloads.iterdir())}"
    assert prompt is not None, embedded_prompt(landed, target.prompts, exe)
    assert_same_image_data(landed.read_bytes(), target)
    after = snapshot(dirs.downloads)
    assert set(after) == set(before) | {upload.file_name}, f"unexpected files: {sorted(after)}"
    for name, state in before.items():
        assert after[name] == state, f"{name} changed"
