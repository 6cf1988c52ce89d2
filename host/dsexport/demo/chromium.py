"""Start the system's Chromium with the extension and drive it over the DevTools protocol, with the
standard library only (``dsexport demo`` must work without Playwright).

Example::

    with Chromium.launch(exe, profile, extension_dir, extra_args) as browser:
        worker = browser.extension_worker(EXTENSION_ID)
        page = browser.open_page("https://chat.deepseek.com/a/chat/s/…")
        browser.evaluate(worker, "globalThis.dsexport.hostStatus()")
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dsexport.demo.wsclient import WebSocket

#: Names the system's Chromium-family browser goes by, most likely first.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    program_files = [
        os.environ.get(v, "") for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")
    ]
    for path in (
        "/Applications/Chromium.app/Contents/MacOS/Chromium",
        *(str(Path(p) / "Chromium" / "Application" / "chrome.exe") for p in program_files if p),
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        *(
            str(Path(p) / "Google" / "Chrome" / "Application" / "chrome.exe")
            for p in program_files
            if p
        ),
    ):
        if Path(path).exists():
            return path
    return None


class DevToolsError(RuntimeError):
    pass


class Chromium:
    def __init__(self, proc: subprocess.Popen, ws: WebSocket):
        self.proc = proc
        self.ws = ws
        self._ids = itertools.count(1)

    @classmethod
    def launch(
        cls,
        executable: str,
        profile: Path,
        extension_dir: Path,
        extra_args: list[str],
        *,
        headless: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> Chromium:
        args = [
            executable,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--load-extension={extension_dir}",
            f"--disable-extensions-except={extension_dir}",
            *extra_args,
        ]
        if headless:
            args += ["--headless=new", "--disable-gpu"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [*args, "about:blank"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=sys.platform != "win32",
        )
        deadline = time.monotonic() + timeout
        while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
            if proc.poll() is not None:
                msg = f"{executable} exited with status {proc.returncode} before it was ready"
                raise DevToolsError(msg)
            if time.monotonic() > deadline:
                proc.kill()
                msg = f"{executable} did not open its DevTools port within {timeout:.0f} s"
                raise DevToolsError(msg)
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        return cls(proc, WebSocket.connect(f"ws://127.0.0.1:{port}{path}"))

    def send(
        self,
        method: str,
        params: dict | None = None,
        *,
        session: str | None = None,
        timeout: float = 60.0,
    ) -> dict:
        ident = next(self._ids)
        message: dict = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send_text(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = f"{method}: no answer from the browser within {timeout:.0f} s"
                raise DevToolsError(msg)
            reply = json.loads(self.ws.recv_text(timeout=left))
            if reply.get("id") == ident:
                if "error" in reply:
                    msg = f"{method}: {reply['error'].get('message')}"
                    raise DevToolsError(msg)
                return reply.get("result", {})

    def _attach(self, target_id: str) -> str:
        return self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})[
            "sessionId"
        ]

    def extension_worker(self, extension_id: str, *, timeout: float = 20.0) -> str:
        """A DevTools session on the extension's service worker."""
        prefix = f"chrome-extension://{extension_id}/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for target in self.send("Target.getTargets")["targetInfos"]:
                if target["type"] == "service_worker" and target["url"].startswith(prefix):
                    return self._attach(target["targetId"])
            time.sleep(0.2)
        msg = (
            f"the extension's service worker ({prefix}) did not start within {timeout:.0f} s; "
            "is the extension folder complete? (Google Chrome 137 and later ignore "
            "--load-extension; use Chromium.)"
        )
        raise DevToolsError(msg)

    def open_page(self, url: str) -> str:
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        return self._attach(target)

    def evaluate(self, session: str, expression: str, *, timeout: float = 120.0):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=session,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text")
            raise DevToolsError(str(text))
        return result.get("result", {}).get("value")

    def wait_for(self, session: str, expression: str, *, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(session, expression, timeout=timeout)
            except DevToolsError:
                value = None  # the page is still navigating
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)

    def close(self) -> None:
        with contextlib.suppress(DevToolsError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.ws.close()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
