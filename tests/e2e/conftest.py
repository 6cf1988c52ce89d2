"""Real-browser fixtures: the sample DeepSeek server, a fresh HOME and Chromium profile per test,
the host registered by the real installer, and Debian's Chromium (headless) with the real extension.

A test gets ``chromium`` (a launcher) and calls ``chromium()`` to start the browser; the result
drives ``globalThis.dsexport`` in the extension's service worker, the way the popup does::

    def test_x(chromium, sample):
        browser = chromium()
        tab = browser.open("main")
        summary = browser.call("saveTab", tab.id, {})
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import (
    EXTENSION_DIR,
    EXTENSION_ID,
    extension_worker,
    install_host,
    require_module,
    require_tool,
)
from headful import desktop, headful_chromium, headful_firefox  # noqa: F401  (fixtures)

from dsexport.demo.sample import build_sample
from dsexport.demo.server import SampleServer, chromium_args

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

#: Seconds one call into the service worker may take before the test fails (not hangs).
CALL_TIMEOUT = 120


def chromium_path() -> str:
    for name in CHROMIUM_CANDIDATES:
        if shutil.which(name):
            return require_tool(name)
    return require_tool("chromium")


@pytest.fixture(scope="session")
def sample():
    return build_sample()


@pytest.fixture(scope="session")
def sample_server(sample):
    with SampleServer(sample, lifetime=1800) as server:
        yield server


@dataclass
class Dirs:
    home: Path
    downloads: Path
    output: Path
    """Where saves land by default: ``$XDG_PICTURES_DIR/DeepSeek``."""
    profile: Path


@pytest.fixture
def dirs(home, tmp_path) -> Dirs:
    """A fresh HOME (tests/conftest.py ``home``: XDG dirs inside it) and an empty profile folder."""
    downloads = home / "Downloads"
    downloads.mkdir()
    (home / "Pictures").mkdir()
    profile = tmp_path / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    return Dirs(home, downloads, home / "Pictures" / "DeepSeek", profile)


@dataclass
class Tab:
    page: object
    id: int
    url: str


class Browser:
    """One running Chromium with the extension, and the service worker to drive it."""

    def __init__(self, context, worker, dirs: Dirs, sample, server):
        self.context = context
        self.worker = worker
        self.dirs = dirs
        self.sample = sample
        self.server = server

    def url(self, key: str) -> str:
        return self.sample.conversation(key).page_url

    def open(self, key: str, *, fragment: str = "", wait_ready: bool = True) -> Tab:
        """A new tab on sample conversation ``key``, loaded and rendered."""
        url = self.url(key)
        page = self.context.new_page()
        page.goto(url + fragment, wait_until="load")
        if wait_ready:
            page.wait_for_selector("html[data-sample-ready]", state="attached", timeout=15_000)
        tab_id = self.evaluate(
            """async (url) => {
                 const tabs = await chrome.tabs.query({});
                 const t = tabs.find((x) => (x.url || '').startsWith(url));
                 return t ? t.id : null;
               }""",
            url,
        )
        assert tab_id is not None, f"no tab found for {url}"
        return Tab(page, tab_id, url)

    def evaluate(self, script: str, arg=None, *, timeout: float = CALL_TIMEOUT):
        """Run ``script`` (a JS function of one argument) in the service worker, with a deadline."""
        wrapped = """async ([src, arg, ms]) => {
            const fn = (0, eval)('(' + src + ')');
            let timer;
            const deadline = new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('e2e: timed out after ' + ms + ' ms')), ms);
            });
            try { return await Promise.race([fn(arg), deadline]); } finally { clearTimeout(timer); }
        }"""
        return self.worker.evaluate(wrapped, [script, arg, int(timeout * 1000)])

    def call(self, name: str, *args, timeout: float = CALL_TIMEOUT):
        """``globalThis.dsexport[name](...args)`` in the service worker, errors as ``{__error}``."""
        return self.evaluate(
            """async ([name, args]) => {
                 const api = globalThis.dsexport;
                 if (!api || typeof api[name] !== 'function') {
                   throw new Error('globalThis.dsexport.' + name + ' is missing');
                 }
                 return await api[name](...args);
               }""",
            [name, list(args)],
            timeout=timeout,
        )

    def scan(self, tab: Tab, *, min_images: int = 1, timeout: float = 20) -> dict:
        """``scanTab`` until it reports at least ``min_images`` (the adapter may still be
        reading the page's API data when the page says it is ready)."""
        deadline = time.monotonic() + timeout
        last: dict = {}
        while True:
            last = self.call("scanTab", tab.id)
            if len(last.get("images", [])) >= min_images or time.monotonic() > deadline:
                return last
            time.sleep(0.5)

    def extension_page(self, path: str):
        page = self.context.new_page()
        page.goto(f"chrome-extension://{EXTENSION_ID}/{path}", wait_until="load")
        return page

    def listen_progress(self):
        """An extension page that records every ``dsexport:progress`` message it receives."""
        page = self.extension_page("_locales/en/messages.json")
        page.goto(f"chrome-extension://{EXTENSION_ID}/popup/popup.html?e2e-listener=1")
        page.evaluate(
            """() => { window.__progress = [];
                 chrome.runtime.onMessage.addListener((m) => {
                   if (m && m.type === 'dsexport:progress') window.__progress.push(m);
                 }); }"""
        )
        return page


@pytest.fixture
def chromium(dirs, sample, sample_server, request):
    """``chromium(install=True, lang=None, extra_args=())`` → a started ``Browser``."""
    require_module("playwright")
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    started = []
    pw = sync_playwright().start()

    def launch(
        *,
        install: bool = True,
        lang: str | None = None,
        extra_args=(),
        viewport=None,
        ask_where_to_save: bool = False,
    ):
        """``ask_where_to_save``: Chrome's "Ask where to save each file" (the browser's
        downloader cannot save quietly, so saveTab does without it)."""
        if install:
            install_host(dirs.profile)
        prefs = {
            "download": {
                "default_directory": str(dirs.downloads),
                "prompt_for_download": ask_where_to_save,
                "directory_upgrade": True,
            },
            "savefile": {"default_directory": str(dirs.downloads)},
        }
        if lang:
            prefs["intl"] = {"accept_languages": lang, "selected_languages": lang}
        (dirs.profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        env = dict(os.environ)
        if lang:
            env["LANGUAGE"] = lang.replace("-", "_")
            env["LANG"] = lang.replace("-", "_") + ".UTF-8"
        args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--load-extension={EXTENSION_DIR}",
            f"--disable-extensions-except={EXTENSION_DIR}",
            *chromium_args(sample_server.port),
            *([f"--lang={lang}"] if lang else []),
            *extra_args,
        ]
        context = pw.chromium.launch_persistent_context(
            str(dirs.profile),
            executable_path=executable,
            headless=True,
            args=args,
            env=env,
            ignore_https_errors=True,
            viewport=viewport or {"width": 1280, "height": 800},
            locale=lang,
        )
        started.append(context)
        # Playwright routes downloads to its own folder with random names; give them back to
        # Chromium so they land in the profile's download folder under their real names.
        blank = context.pages[0] if context.pages else context.new_page()
        context.new_cdp_session(blank).send("Browser.setDownloadBehavior", {"behavior": "default"})
        worker = extension_worker(context)
        return Browser(context, worker, dirs, sample, sample_server)

    yield launch
    for context in started:
        # A crashed browser must not hide the test's own failure.
        with contextlib.suppress(Exception):
            context.close()
    pw.stop()
