"""Smoke test: the real extension loads in real headless Chromium, its service worker starts
under the pinned ID, ``globalThis.dsexport`` is there, and the popup and options pages render
their no-host and real-host states.

Driven with Playwright for Python against Debian's /usr/bin/chromium. The native host, when a
test needs one, is the real ``dsexport host`` registered in the profile's NativeMessagingHosts
folder (Chromium reads ``<user-data-dir>/NativeMessagingHosts`` on Linux).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testutil import require_module, require_tool

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = Path(os.environ.get("DSEXPORT_EXTENSION_DIR", ROOT / "extension"))
EXTENSION_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
HOST_NAME = "org.dsexport.host"
API = ["embedDownload", "exportConversation", "hostStatus", "saveImage", "saveTab", "scanTab"]
EN = json.loads((EXTENSION / "_locales" / "en" / "messages.json").read_text("utf-8"))


def register_host(profile: Path, home: Path) -> None:
    """Write the host manifest and a launcher, as the installer would, into the test profile."""
    launcher = home / "dsexport-host"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dsexport host "$@"\n', "utf-8")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    folder = profile / "NativeMessagingHosts"
    folder.mkdir(parents=True)
    manifest = {
        "name": HOST_NAME,
        "description": "DS Export native host (test)",
        "path": str(launcher),
        "type": "stdio",
        "allowed_origins": [f"chrome-extension://{EXTENSION_ID}/"],
    }
    (folder / f"{HOST_NAME}.json").write_text(json.dumps(manifest), "utf-8")


def wait_for_text(page, selector: str, *, min_chars: int = 3, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = page.text_content(selector) or ""
        if len(text) >= min_chars:
            return text
        page.wait_for_timeout(100)
    pytest.fail(f"{selector} stayed empty for {timeout} s")
    raise AssertionError


class Browser:
    def __init__(self, context, home: Path):
        self.context = context
        self.home = home
        self.errors: list[str] = []
        workers = context.service_workers
        self.worker = (
            workers[0] if workers else context.wait_for_event("serviceworker", timeout=30_000)
        )

    def page(self, path: str):
        page = self.context.new_page()
        page.on("pageerror", lambda err: self.errors.append(f"{path}: {err}"))
        page.on(
            "console", lambda msg: msg.type == "error" and self.errors.append(f"{path}: {msg.text}")
        )
        page.goto(f"chrome-extension://{EXTENSION_ID}/{path}")
        return page


@pytest.fixture
def launch(tmp_path):
    sync_api = require_module("playwright.sync_api")
    executable = require_tool("chromium")
    started = []

    def start(*, with_host: bool = False, extra_args: tuple[str, ...] = ()) -> Browser:
        home = tmp_path / "home"
        profile = tmp_path / "profile"
        home.mkdir()
        if with_host:
            register_host(profile, home)
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_PICTURES_DIR": str(home / "Pictures"),
            "XDG_DOWNLOAD_DIR": str(home / "Downloads"),
        }
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            env.pop(var, None)
        playwright = sync_api.sync_playwright().start()
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            env=env,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--disable-extensions-except={EXTENSION}",
                f"--load-extension={EXTENSION}",
                *extra_args,
            ],
        )
        started.append((playwright, context))
        return Browser(context, home)

    yield start
    for playwright, context in started:
        context.close()
        playwright.stop()


def test_service_worker_starts_under_the_pinned_id(launch):
    browser = launch()
    assert browser.worker.url == f"chrome-extension://{EXTENSION_ID}/background/main.js"
    assert browser.worker.evaluate("Object.keys(globalThis.dsexport).sort()") == API
    manifest = browser.worker.evaluate("chrome.runtime.getManifest()")
    assert manifest["commands"]["save-all"]["suggested_key"]["default"] == "Alt+Shift+U"


def test_chromium_reports_no_manifest_warnings_or_errors(launch):
    browser = launch()
    page = browser.context.new_page()
    # chrome://extensions exposes what the Extensions page shows, including install warnings
    # (e.g. an unsupported manifest key) that never reach the console.
    page.goto("chrome://extensions")
    infos = page.evaluate("chrome.developerPrivate.getExtensionsInfo()")
    ours = next(info for info in infos if info["id"] == EXTENSION_ID)
    assert ours["installWarnings"] == []
    assert ours["manifestErrors"] == []
    assert ours["runtimeErrors"] == []


def test_host_status_reports_a_missing_host(launch):
    browser = launch()
    status = browser.worker.evaluate("globalThis.dsexport.hostStatus()")
    assert status["installed"] is False
    assert status["ok"] is False
    assert status["error"]["code"] == "host_not_installed"


def test_popup_shows_not_deepseek_and_the_install_command(launch):
    browser = launch()
    page = browser.page("popup/popup.html")
    page.wait_for_selector("#host-box:not([hidden])")
    assert page.text_content("#install-command") == "bash install/install.sh"
    assert page.text_content("#host-title") == EN["hostMissingTitle"]["message"]
    assert page.text_content("#state-title") == EN["stateNotConversationTitle"]["message"]
    assert page.is_hidden("#save-all")
    assert browser.errors == []


def test_scan_refuses_a_tab_that_is_not_deepseek(launch):
    browser = launch()
    page = browser.page("popup/popup.html")
    tab_id = browser.worker.evaluate("chrome.tabs.query({}).then((tabs) => tabs.at(-1).id)")
    error = browser.worker.evaluate(
        "(id) => globalThis.dsexport.scanTab(id).then(() => null, (err) => err.code)", tab_id
    )
    assert error == "not_deepseek"
    page.close()


def test_with_the_real_host_options_read_and_write_the_config(launch):
    browser = launch(with_host=True)
    status = browser.worker.evaluate("globalThis.dsexport.hostStatus()")
    assert status["ok"] is True, status
    from dsexport import __version__

    assert status["version"] == __version__

    page = browser.page("options/options.html")
    page.wait_for_selector("#fields:not([disabled])", timeout=20_000)
    assert page.is_hidden("#host-box")
    # Extension pages forbid eval, so poll from Python rather than with wait_for_function.
    preview = wait_for_text(page, "#preview")
    assert preview.endswith(".png"), preview

    # The host validates: a relative folder is refused and its message shown by the field.
    page.fill("#output_dir", "not/absolute")
    page.click("#save-output-dir")
    page.wait_for_selector("#status-output_dir.error")

    target = browser.home / "Saved Images"
    page.fill("#output_dir", str(target))
    page.click("#save-output-dir")
    page.wait_for_selector("#status-output_dir.ok")

    page.uncheck("#auto_capture")
    page.wait_for_selector("#status-auto_capture.ok")

    extra = browser.home / "Elsewhere"
    page.fill("#download_dirs", f"  {extra}\n\n")
    page.click("#save-download-dirs")
    page.wait_for_selector("#status-download_dirs.ok")

    env = {**os.environ, "HOME": str(browser.home)}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        env.pop(var, None)
    shown = subprocess.run(
        [sys.executable, "-m", "dsexport", "config", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout)
    assert Path(config["output_dir"]) == target
    assert config["auto_capture"] is False
    assert [Path(d) for d in config["download_dirs"]] == [extra]
    # The background mirrors auto_capture for download events.
    mirrored = browser.worker.evaluate(
        "chrome.storage.local.get('autoCapture').then((v) => v.autoCapture)"
    )
    assert mirrored is False
    assert browser.errors == []


def wait_for_capture(browser: Browser, download_id: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        captures = browser.worker.evaluate(
            "chrome.storage.session.get('recentCaptures').then((v) => v.recentCaptures ?? [])"
        )
        for capture in captures:
            if capture["downloadId"] == download_id:
                return capture
        time.sleep(0.2)
    pytest.fail(f"download {download_id} was never captured")
    raise AssertionError


def test_auto_capture_embeds_the_prompt_into_finished_downloads(launch):
    from dsexport import read_metadata
    from dsexport.demo.sample import build_sample
    from dsexport.demo.server import SampleServer, chromium_args

    with SampleServer(build_sample(), lifetime=300) as server:
        browser = launch(with_host=True, extra_args=tuple(chromium_args(server.port)))
        page = browser.context.new_page()
        page.goto("https://chat.deepseek.com/")
        tab_id = browser.worker.evaluate(
            "chrome.tabs.query({url: 'https://chat.deepseek.com/*'}).then((t) => t[0].id)"
        )
        scan = browser.worker.evaluate("(id) => globalThis.dsexport.scanTab(id)", tab_id)
        item = next(
            i for i in scan["images"] if i["kind"] == "generated" and i["src"].startswith("https:")
        )
        downloads = browser.home / "Downloads"
        downloads.mkdir()
        cdp = browser.context.new_cdp_session(page)
        cdp.send(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )

        # A download of an image the adapter listed: its own prompt goes into the file.
        download_id = browser.worker.evaluate(
            "(url) => chrome.downloads.download({url})", item["src"]
        )
        capture = wait_for_capture(browser, download_id)
        assert capture["ok"] is True, capture
        saved = Path(capture["path"])
        assert saved.parent == downloads
        meta = read_metadata(saved)
        assert meta is not None
        assert meta.prompt == item["metadata"]["prompt"]
        assert meta.page_url == scan["conversation"]["url"]

        # A download the page itself makes from a blob: URL (like a "download" button): the
        # image cannot be matched by URL, so the page it came from is recorded.
        page.evaluate(
            """async (src) => {
                const blob = await (await fetch(src)).blob();
                const a = document.createElement("a");
                a.href = URL.createObjectURL(blob);
                a.download = "from-page-button.bin.png";
                document.body.append(a);
                a.click();
            }""",
            item["src"],
        )
        deadline = time.monotonic() + 30
        blob_id = None
        while blob_id is None and time.monotonic() < deadline:
            blob_id = browser.worker.evaluate(
                "chrome.downloads.search({filenameRegex: 'from-page-button'})"
                ".then((r) => r[0]?.id ?? null)"
            )
            time.sleep(0.2)
        assert blob_id is not None
        capture = wait_for_capture(browser, blob_id)
        assert capture["ok"] is True, capture
        meta = read_metadata(Path(capture["path"]))
        assert meta is not None
        assert meta.page_url == scan["conversation"]["url"]

        # "Copy diagnostics" from the popup: versions, host and adapter state, no prompt text.
        popup = browser.page(f"popup/popup.html?tab={tab_id}")
        report = popup.evaluate(
            "(id) => chrome.runtime.sendMessage({type: 'diagnostics', tabId: id})", tab_id
        )
        assert report["ok"] is True, report
        result = report["result"]
        assert result["host"]["ok"] is True
        assert result["page"]["images"] == len(scan["images"])
        assert "adapter" in result["page"], result["page"]
        assert item["metadata"]["prompt"] not in json.dumps(result, ensure_ascii=False)


def test_a_failed_auto_capture_is_explained_in_the_popup(launch):
    from dsexport import read_metadata
    from dsexport.demo.sample import build_sample
    from dsexport.demo.server import SampleServer, chromium_args

    with SampleServer(build_sample(), lifetime=300) as server:
        browser = launch(with_host=True, extra_args=tuple(chromium_args(server.port)))
        page = browser.context.new_page()
        page.goto("https://chat.deepseek.com/")
        tab_id = browser.worker.evaluate(
            "chrome.tabs.query({url: 'https://chat.deepseek.com/*'}).then((t) => t[0].id)"
        )
        scan = browser.worker.evaluate("(id) => globalThis.dsexport.scanTab(id)", tab_id)
        item = next(i for i in scan["images"] if i["src"].startswith("https:"))
        # A folder the host may not touch: neither the download folder nor the output folder.
        elsewhere = browser.home / "Elsewhere"
        elsewhere.mkdir()
        cdp = browser.context.new_cdp_session(page)
        cdp.send(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(elsewhere)}
        )
        download_id = browser.worker.evaluate(
            "(url) => chrome.downloads.download({url})", item["src"]
        )
        capture = wait_for_capture(browser, download_id)
        assert capture["ok"] is False
        assert capture["code"] == "forbidden_path"

        # The popup explains it once, in the options page's words, and offers the fix.
        popup = browser.page(f"popup/popup.html?tab={tab_id}")
        popup.wait_for_selector("#capture-notice:not([hidden])")
        file_name = Path(capture["path"]).name
        assert file_name in popup.text_content("#capture-title")
        assert str(elsewhere) in popup.text_content("#capture-where")
        assert EN["downloadDirsHint"]["message"] in popup.text_content("#capture-notice")
        assert "download_dirs" not in popup.text_content("body")

        # One click: the folder joins "Other download folders" and the file gets its prompt.
        popup.click("#add-folder")
        popup.wait_for_selector("#capture-status:has-text('Added')")
        config = browser.worker.evaluate("globalThis.dsexport.hostStatus().then((s) => s.config)")
        assert str(elsewhere) in config["download_dirs"]
        meta = read_metadata(Path(capture["path"]))
        assert meta is not None and meta.prompt, "the refused download did not get its prompt"

        # Answered: the next popup does not ask again.
        again = browser.page(f"popup/popup.html?tab={tab_id}")
        again.wait_for_function("() => document.body.dataset.ready === '1'", timeout=20_000)
        assert again.locator("#capture-notice").is_hidden()
