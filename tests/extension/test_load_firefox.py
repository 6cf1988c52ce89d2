"""Smoke test: the same extension tree runs in real headless Firefox (MV3 event page, module
background) and talks to the real native host.

Firefox is driven over WebDriver BiDi with the stdlib WebSocket client in dsexport.demo.
BiDi installs the extension temporarily but refuses to navigate a tab to a moz-extension:// URL,
so the test loads a copy whose manifest also lists popup/ and options/ as web-accessible to
http://127.0.0.1, opens a local page and lets it navigate there. The extension's UUID is pinned
with the extensions.webextensions.uuids pref. The host is registered the way Firefox looks it up:
``$HOME/.mozilla/native-messaging-hosts/org.dsexport.host.json``.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from testutil import require_tool

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
GECKO_ID = "dsexport@dsexport.org"
UUID = "6a1c0e52-8a4e-4d3b-9c2f-0f1e2d3c4b5a"
HOST_NAME = "org.dsexport.host"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Firefox:
    def __init__(self, ws, context: str, page_port: int):
        self.ws = ws
        self.context = context
        self.page_port = page_port
        self.next_id = 0

    def command(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.ws.send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv_text(timeout=60))
            if message.get("id") == self.next_id:
                if message.get("type") == "error":
                    raise AssertionError(f"{method}: {message.get('message')}")
                return message["result"]

    def evaluate(self, expression: str):
        result = self.command(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": self.context},
                "awaitPromise": True,
                "resultOwnership": "none",
            },
        )
        assert result["type"] == "success", result
        return result["result"].get("value")

    def open(self, path: str) -> None:
        """Navigate the tab to an extension page (via the web-accessible copy, see above)."""
        self.command(
            "browsingContext.navigate",
            {
                "context": self.context,
                "url": f"http://127.0.0.1:{self.page_port}/",
                "wait": "complete",
            },
        )
        self.command(
            "script.evaluate",
            {
                "expression": f"location.href = 'moz-extension://{UUID}/{path}'",
                "target": {"context": self.context},
                "awaitPromise": False,
            },
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(AssertionError):
                if (
                    self.evaluate("document.readyState") == "complete"
                    and self.evaluate("location.protocol") == "moz-extension:"
                ):
                    return
            time.sleep(0.2)
        pytest.fail(f"{path} did not load")

    def wait_for(self, expression: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        pytest.fail(f"never true: {expression}")
        raise AssertionError

    def call(self, message: dict) -> dict:
        """runtime.sendMessage from the open extension page: exactly what the popup does."""
        text = self.evaluate(
            f"browser.runtime.sendMessage({json.dumps(message)}).then((r) => JSON.stringify(r))"
        )
        return json.loads(text)


def register_host(home: Path) -> None:
    launcher = home / "dsexport-host"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dsexport host "$@"\n', "utf-8")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    folder = home / ".mozilla" / "native-messaging-hosts"
    folder.mkdir(parents=True)
    manifest = {
        "name": HOST_NAME,
        "description": "DS Export native host (test)",
        "path": str(launcher),
        "type": "stdio",
        "allowed_extensions": [GECKO_ID],
    }
    (folder / f"{HOST_NAME}.json").write_text(json.dumps(manifest), "utf-8")


def copy_for_bidi(target: Path) -> Path:
    shutil.copytree(EXTENSION, target)
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["web_accessible_resources"].append(
        {"resources": ["popup/*", "options/*"], "matches": ["http://127.0.0.1/*"]}
    )
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return target


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def launch(tmp_path):
    executable = require_tool("firefox")
    from dsexport.demo.wsclient import WebSocket

    started = []

    def start(*, with_host: bool = False) -> Firefox:
        home = tmp_path / "home"
        profile = tmp_path / "profile"
        home.mkdir()
        profile.mkdir()
        if with_host:
            register_host(home)
        prefs = {
            "extensions.webextensions.uuids": json.dumps({GECKO_ID: UUID}),
            "browser.shell.checkDefaultBrowser": False,
            "datareporting.policy.dataSubmissionEnabled": False,
        }
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()),
            "utf-8",
        )
        extension = copy_for_bidi(tmp_path / "extension")
        page_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
        threading.Thread(target=page_server.serve_forever, daemon=True).start()
        port = free_port()
        env = {**os.environ, "HOME": str(home), "MOZ_HEADLESS": "1"}
        proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-remote",
                "--profile",
                str(profile),
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append((proc, page_server))
        deadline = time.monotonic() + 60
        while True:
            try:
                ws = WebSocket.connect(f"ws://127.0.0.1:{port}/session", timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("Firefox did not open its WebDriver BiDi port")
                time.sleep(0.3)
        browser = Firefox(ws, "", page_server.server_port)
        browser.command("session.new", {"capabilities": {}})
        installed = browser.command(
            "webExtension.install", {"extensionData": {"type": "path", "path": str(extension)}}
        )
        assert installed["extension"] == GECKO_ID
        browser.context = browser.command("browsingContext.getTree", {})["contexts"][0]["context"]
        return browser

    yield start
    for proc, page_server in started:
        page_server.shutdown()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_event_page_answers_and_reports_a_missing_host(launch):
    firefox = launch()
    firefox.open("popup/popup.html")
    reply = firefox.call({"type": "hostStatus"})
    assert reply["ok"] is True
    status = reply["result"]
    assert status["installed"] is False
    assert status["error"]["code"] == "host_not_installed"
    firefox.wait_for("!document.getElementById('host-box').hidden")
    assert firefox.evaluate("document.getElementById('install-command').textContent") == (
        "bash install/install.sh"
    )


def test_options_read_the_real_host_config(launch):
    firefox = launch(with_host=True)
    firefox.open("options/options.html")
    firefox.wait_for("!document.getElementById('fields').disabled")
    preview = firefox.wait_for(
        "document.getElementById('preview').textContent.length > 3 && "
        "document.getElementById('preview').textContent"
    )
    assert preview.endswith(".png")
    reply = firefox.call({"type": "hostStatus"})
    from dsexport import __version__

    assert reply["result"]["version"] == __version__
