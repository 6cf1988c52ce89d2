"""Headful Chromium and Firefox ESR on a ``desktop.Desktop``, with the real extension and the real
installed helper, started the way a person starts them: the browser opens a window on the X
display, the toolbar button is where the person sees it, and input comes from xdotool.

The drivers (Playwright for Chromium, WebDriver BiDi for Firefox) only open pages and read what
the page shows; they never call into the extension's background.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from desktop import Desktop
from e2e_support import EXTENSION_DIR, EXTENSION_ID, GECKO_ID, install_host, require_module

from dsexport.demo.server import chromium_args


@dataclass
class Window:
    """The browser's main window on the desktop."""

    desktop: Desktop
    id: str

    def focus(self) -> None:
        self.desktop.focus(self.id)

    def box(self) -> tuple[int, int, int, int]:
        x, y, w, h = self.desktop.geometry(self.id)
        return x, y, x + w, y + h


def main_window(desktop: Desktop, class_: str, timeout: float = 60) -> Window:
    """The largest visible window of the browser (the popup and menus are smaller)."""

    def largest():
        ids = desktop.windows(class_=class_)
        sized = []
        for wid in ids:
            try:
                _, _, w, h = desktop.geometry(wid)
            except RuntimeError:
                continue
            if w >= 600 and h >= 400:
                sized.append((w * h, wid))
        return max(sized)[1] if sized else None

    return Window(desktop, desktop.wait_for(largest, timeout=timeout, what=f"a {class_} window"))


def toolbar_button(desktop: Desktop, window: Window, timeout: float = 30) -> tuple[int, int]:
    """Where the person clicks: the centre of our icon in the window's toolbar (the top 130 px,
    right of the address bar)."""
    x0, y0, x1, _ = window.box()
    region = (x0 + (x1 - x0) // 3, y0, x1, y0 + 130)

    def found():
        boxes = desktop.find_icon(region)
        return boxes[0] if boxes else None

    bx0, by0, bx1, by1 = desktop.wait_for(
        found, timeout=timeout, what="the DS Export toolbar button"
    )
    # The badge (the image count) sits over the icon's lower right; aim at the icon's upper left.
    side = min(bx1 - bx0, by1 - by0)
    return bx0 + side // 2, by0 + side // 2


def chromium_preferences(profile: Path, downloads: Path, lang: str | None) -> None:
    prefs = {
        "download": {
            "default_directory": str(downloads),
            "prompt_for_download": False,
            "directory_upgrade": True,
        },
        "savefile": {"default_directory": str(downloads)},
        # Pinned, as a person pins it after installing (Chromium offers no way for an extension
        # to pin itself); Firefox shows it without this (manifest action.default_area).
        "extensions": {"pinned_extensions": [EXTENSION_ID]},
        "browser": {"has_seen_welcome_page": True},
        # The sample pages are Chinese: no "translate this page?" bubble over the toolbar.
        "translate": {"enabled": False},
    }
    if lang:
        prefs["intl"] = {"accept_languages": lang, "selected_languages": lang}
    (profile / "Default").mkdir(parents=True, exist_ok=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))


class HeadfulChromium:
    """Debian's Chromium in a window, through Playwright (its executable_path: no downloaded
    browser)."""

    def __init__(
        self,
        pw,
        executable: str,
        desktop: Desktop,
        dirs,
        server_port: int,
        *,
        lang=None,
        install=True,
        download_dir=None,
    ):
        if install:
            install_host(dirs.profile)
        chromium_preferences(dirs.profile, download_dir or dirs.downloads, lang)
        env = with_file_manager_recorder(dict(desktop.env), desktop.folder)
        self.reveal_log = desktop.folder / "file-manager.log"
        if lang:
            env["LANGUAGE"] = lang.replace("-", "_")
            env["LANG"] = lang.replace("-", "_") + ".UTF-8"
        self.desktop = desktop
        self.context = pw.chromium.launch_persistent_context(
            str(dirs.profile),
            executable_path=executable,
            headless=False,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--password-store=basic",
                "--test-type",  # no "unsupported command-line flag" bar over the page
                f"--window-size={desktop_width(desktop)},860",
                "--window-position=0,0",
                f"--load-extension={EXTENSION_DIR}",
                f"--disable-extensions-except={EXTENSION_DIR}",
                *chromium_args(server_port),
                *([f"--lang={lang}"] if lang else []),
            ],
            env=env,
            ignore_https_errors=True,
            no_viewport=True,
            locale=lang,
        )
        blank = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.context.new_cdp_session(blank).send(
            "Browser.setDownloadBehavior", {"behavior": "default"}
        )
        self.window = main_window(desktop, "chromium")

    def open(self, url: str):
        page = self.context.pages[0]
        page.goto(url, wait_until="load")
        page.wait_for_selector("html[data-sample-ready]", state="attached", timeout=15_000)
        page.bring_to_front()
        self.window.focus()
        return page

    def revealed(self) -> list[str]:
        """What the helper asked the file manager to show (argv lines), [] before it did."""
        return self.reveal_log.read_text().splitlines() if self.reveal_log.exists() else []

    def popup_page(self, timeout: float = 20):
        """The popup the toolbar button opened, to read what it shows (Playwright lists no
        extension popups, so this attaches to its DevTools target)."""
        prefix = f"chrome-extension://{EXTENSION_ID}/popup/popup.html"
        cdp = self.context.new_cdp_session(self.context.pages[0])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for target in cdp.send("Target.getTargets")["targetInfos"]:
                if target["url"].startswith(prefix):
                    return PopupTarget(cdp, target["targetId"])
            time.sleep(0.1)
        return None

    def close(self) -> None:
        self.context.close()


def with_file_manager_recorder(env: dict, folder: Path) -> dict:
    """The desktop has no file manager: "Show in folder" ends at ``xdg-open`` (the helper tries
    the FileManager1 D-Bus call first, which nothing answers here), so a recorder of that name,
    first on PATH, writes down what it was asked to open."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    recorder = bin_dir / "xdg-open"
    log = folder / "file-manager.log"
    recorder.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\n')
    recorder.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def desktop_width(desktop: Desktop) -> int:
    from desktop import SCREEN

    return SCREEN[0]


def firefox_profile(profile: Path, *, proxy_port: int, downloads: Path, lang: str | None) -> None:
    from firefox import write_profile

    write_profile(profile, proxy_port=proxy_port, downloads=downloads)
    extra = {
        # A window the size of the screen, no first-run pages or what's-new tabs.
        "browser.startup.homepage_override.mstone": "ignore",
        "startup.homepage_welcome_url": "",
        "browser.aboutwelcome.enabled": False,
        "trailhead.firstrun.didSeeAboutWelcome": True,
        "browser.tabs.warnOnClose": False,
        "browser.sessionstore.resume_from_crash": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
        "browser.download.panel.shown": True,
        # Notifications go to the system's daemon (libnotify), as on a desktop.
        "alerts.useSystemBackend": True,
    }
    if lang:
        extra["intl.locale.requested"] = lang
        extra["intl.accept_languages"] = lang
    with (profile / "user.js").open("a") as f:
        f.write(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in extra.items())
        )


class HeadfulFirefox:
    """Debian's Firefox ESR in a window, driven over WebDriver BiDi only to open pages and read
    them; the extension is installed as a temporary add-on (webExtension.install)."""

    def __init__(
        self,
        executable: str,
        desktop: Desktop,
        dirs,
        sample_server,
        folder: Path,
        *,
        lang=None,
        install=True,
    ):
        from e2e_support import install_firefox_host
        from firefox import ConnectProxy, Firefox

        if install:
            install_firefox_host(dirs.home)
        self.desktop = desktop
        self.proxy = ConnectProxy(sample_server.port)
        profile = folder / "firefox-profile"
        firefox_profile(profile, proxy_port=self.proxy.port, downloads=dirs.downloads, lang=lang)
        env = with_file_manager_recorder(dict(desktop.env), desktop.folder)
        self.reveal_log = desktop.folder / "file-manager.log"
        if lang:
            env["LANGUAGE"] = lang.replace("-", "_")
            env["LANG"] = lang.replace("-", "_") + ".UTF-8"
        self.ff = Firefox(executable, profile, env, folder / "firefox.log", headless=False)
        installed = self.ff.cmd(
            "webExtension.install", extensionData={"type": "path", "path": str(EXTENSION_DIR)}
        )
        assert installed["extension"] == GECKO_ID
        self.window = main_window(desktop, "firefox")

    def open(self, url: str) -> str:
        ff = self.ff
        ff.cmd("browsingContext.navigate", context=ff.context, url=url, wait="complete")
        deadline = time.monotonic() + 20
        while ff.evaluate(ff.context, "document.documentElement.dataset.sampleReady || ''") != "1":
            if time.monotonic() > deadline:
                msg = f"the sample page {url} did not render"
                raise AssertionError(msg)
            time.sleep(0.2)
        ff.cmd("browsingContext.activate", context=ff.context)
        self.window.focus()
        return ff.context

    def screen_point(self, selector: str) -> tuple[int, int]:
        """Firefox says where its content is on the screen (mozInnerScreenX/Y)."""
        point = self.ff.evaluate(
            self.ff.context,
            f"""(() => {{
                 const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
                 return [mozInnerScreenX + r.left + r.width / 2,
                         mozInnerScreenY + r.top + r.height / 2]; }})()""",
        )
        return round(point[0]), round(point[1])

    def revealed(self) -> list[str]:
        return self.reveal_log.read_text().splitlines() if self.reveal_log.exists() else []

    def close(self) -> None:
        try:
            self.ff.close()
        finally:
            self.proxy.close()


def chromium_executable() -> str:
    # Not conftest's chromium_path: "conftest" names another module when the whole suite runs.
    import shutil

    from e2e_support import require_tool

    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return require_tool(name)
    return require_tool("chromium")


def shots_dir(tmp_path: Path) -> Path:
    """Where a headful test keeps the screenshots it takes for a person to look at (the README's
    are test_screenshots.py's)."""
    folder = tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def firefox_executable() -> str:
    import shutil

    from e2e_support import require_tool

    for name in ("firefox-esr", "firefox"):
        if shutil.which(name):
            return require_tool(name)
    return require_tool("firefox-esr")


# --- fixtures (imported by the headful test modules) ------------------------------------------


@pytest.fixture
def desktop(dirs, tmp_path):
    """A desktop of its own; after ``dirs``, so everything started on it has the test's HOME."""
    assert Path(os.environ["HOME"]) == dirs.home, "the desktop must not see the real HOME"
    d = Desktop(tmp_path / "desktop")
    yield d
    d.close()


@pytest.fixture
def headful_firefox(desktop, dirs, sample_server, tmp_path):
    """``headful_firefox(lang=None, install=True)`` → a started ``HeadfulFirefox``."""
    started = []

    def launch(**kw):
        browser = HeadfulFirefox(firefox_executable(), desktop, dirs, sample_server, tmp_path, **kw)
        started.append(browser)
        return browser

    yield launch
    for browser in started:
        with contextlib.suppress(Exception):
            browser.close()


@pytest.fixture
def headful_chromium(desktop, dirs, sample_server):
    """``headful_chromium(lang=None, install=True)`` → a started ``HeadfulChromium``."""
    require_module("playwright")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    started = []

    def launch(**kw):
        browser = HeadfulChromium(
            pw, chromium_executable(), desktop, dirs, sample_server.port, **kw
        )
        started.append(browser)
        return browser

    yield launch
    for browser in started:
        with contextlib.suppress(Exception):  # a crashed browser must not hide the test's failure
            browser.close()
    pw.stop()


def screen_point(page, selector: str, window: Window) -> tuple[int, int]:
    """Where an element of a tab's page is on the screen: the page's own window metrics (the
    toolbar is outerHeight - innerHeight tall) plus the browser window's position."""
    box = page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
             const side = (window.outerWidth - window.innerWidth) / 2;
             const top = window.outerHeight - window.innerHeight - side;
             return {x: r.left + r.width / 2 + side, y: r.top + r.height / 2 + top}; }""",
        selector,
    )
    x0, y0, _, _ = window.box()
    return x0 + round(box["x"]), y0 + round(box["y"])


def new_window(
    desktop: Desktop, class_: str, before: set[str], timeout: float = 20
) -> tuple[str, tuple]:
    """A window of the browser that was not there before (a menu, the popup): its id and box."""

    def appeared():
        for wid in desktop.windows(class_=class_):
            if wid in before:
                continue
            try:
                x, y, w, h = desktop.geometry(wid)
            except RuntimeError:
                continue
            if w > 20 and h > 20:
                return wid, (x, y, x + w, y + h)
        return None

    return desktop.wait_for(appeared, timeout=timeout, what=f"a new {class_} window")


def popup_box(popup) -> tuple[int, int, int, int]:
    """The popup's box on the screen, from its own window metrics."""
    m = popup.evaluate("[screenX, screenY, outerWidth, outerHeight]")
    return m[0], m[1], m[0] + m[2], m[1] + m[3]


class PopupTarget:
    """Reads an extension popup through the DevTools protocol: evaluate() an expression in it."""

    def __init__(self, cdp, target_id: str):
        self.cdp = cdp
        self.replies: dict[int, dict] = {}
        self._n = 0
        cdp.on("Target.receivedMessageFromTarget", self._received)
        self.session = cdp.send("Target.attachToTarget", {"targetId": target_id, "flatten": False})[
            "sessionId"
        ]

    def _received(self, event) -> None:
        message = json.loads(event["message"])
        if "id" in message:
            self.replies[message["id"]] = message

    def evaluate(self, expression: str, timeout: float = 30):
        """The JSON value of an (awaited) expression in the popup."""
        self._n += 1
        ident = self._n
        wrapped = f"(async () => JSON.stringify(await ({expression})))()"
        command = {
            "id": ident,
            "method": "Runtime.evaluate",
            "params": {"expression": wrapped, "awaitPromise": True, "returnByValue": True},
        }
        self.cdp.send(
            "Target.sendMessageToTarget",
            {"sessionId": self.session, "message": json.dumps(command)},
        )
        deadline = time.monotonic() + timeout
        while ident not in self.replies:
            if time.monotonic() > deadline:
                msg = f"the popup did not answer {expression[:80]!r}"
                raise TimeoutError(msg)
            # Events are delivered while Playwright waits on the connection.
            self.cdp.send("Target.getTargets")
        reply = self.replies.pop(ident)
        result = reply.get("result", {})
        if "exceptionDetails" in result:
            msg = f"{result['exceptionDetails'].get('text')}: {expression[:120]}"
            raise RuntimeError(msg)
        value = result.get("result", {}).get("value")
        return json.loads(value) if isinstance(value, str) else None

    def wait_for(self, expression: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except RuntimeError:  # the document is still loading (no body yet)
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                msg = f"timed out waiting in the popup for {expression[:80]!r}"
                raise TimeoutError(msg)
            time.sleep(0.2)


def context_menu_entry(
    desktop: Desktop, window: Window, before, timeout: float = 20
) -> tuple[int, int]:
    """Where our entry is in a context menu that opened since the screenshot ``before``: found by
    its icon inside what changed on the screen, below the window's toolbar (where the badge may
    have changed too)."""
    toolbar_bottom = window.box()[1] + 110

    def entry():
        changed = desktop.changed_region(before)
        if not changed or changed[3] <= toolbar_bottom:
            return None
        region = (changed[0], max(changed[1], toolbar_bottom), changed[2], changed[3])
        # Menu icons are drawn 16 px square in both browsers; blue shapes in the page are not.
        icons = [
            box
            for box in desktop.find_icon(region, min_size=13, max_size=20)
            if abs((box[2] - box[0]) - (box[3] - box[1])) <= 2
        ]
        return icons[0] if icons else None

    box = desktop.wait_for(entry, timeout=timeout, what="our entry in the context menu")
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def popup_point(popup, selector: str) -> tuple[int, int]:
    """Where an element of the popup is on the screen (the popup has no frame of its own), once
    it has stopped moving: Chromium resizes the popup's bubble a moment after its content grows
    (thumbnails loading, a note under a broken one), and a click computed mid-resize misses."""
    where = f"""(() => {{
         const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
         const side = (outerWidth - innerWidth) / 2;
         return [screenX + side + r.left + r.width / 2,
                 screenY + outerHeight - innerHeight - side + r.top + r.height / 2]; }})()"""
    point = popup.evaluate(where)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        again = popup.evaluate(where)
        if again == point:
            break
        point = again
    x, y = point
    return round(x), round(y)


def open_popup(desktop: Desktop, browser: HeadfulChromium) -> PopupTarget:
    """A click on the toolbar button, as a person opens the popup; returns it once it is ready."""
    desktop.click(*toolbar_button(desktop, browser.window))
    popup = browser.popup_page()
    assert popup is not None, "the toolbar button opened no popup"
    popup.wait_for(
        "document.body.dataset.ready === '1' || !document.querySelector('#host-box').hidden"
    )
    return popup
