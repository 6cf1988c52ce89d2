"""Headless Firefox ESR driven over WebDriver BiDi (no geckodriver), following
shared/reference/firefox-e2e.md: the sample sites reached through a PAC file and a local CONNECT
proxy, the extension installed with ``webExtension.install``, the real host registered by
``dsexport install --browser firefox`` in the test's HOME."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from dsexport.demo.sample import HOSTS
from dsexport.demo.wsclient import WebSocket

#: Fixed moz-extension:// UUID for our add-on, so tests can open its pages by URL.
EXTENSION_UUID = "3a1f0c9e-6b2d-4e8f-9a7c-5d4b3e2f1a0b"


class ConnectProxy:
    """Answers ``CONNECT <sample host>:443`` by piping to the sample server; refuses the rest."""

    def __init__(self, target_port: int, *, lifetime: float = 900):
        self.target_port = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.deadline = time.monotonic() + lifetime
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while time.monotonic() < self.deadline:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        upstream = None
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(4096)
                if not chunk or len(data) > 16384:
                    return
                data += chunk
            parts = data.split()
            allowed = {f"{h}:443".encode() for h in HOSTS}
            if parts[0] != b"CONNECT" or parts[1] not in allowed:
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            while time.monotonic() < self.deadline:
                ready, _, _ = select.select([client, upstream], [], [], 30)
                if not ready:
                    return
                for s in ready:
                    chunk = s.recv(262144)
                    if not chunk:
                        return
                    (upstream if s is client else client).sendall(chunk)
        except OSError:
            pass
        finally:
            client.close()
            if upstream:
                upstream.close()

    def close(self) -> None:
        self.sock.close()


def write_profile(profile: Path, *, proxy_port: int, downloads: Path) -> None:
    hosts = "||".join(f"h=='{h}'" for h in HOSTS)
    pac = (
        "data:text/javascript,function FindProxyForURL(u,h){"
        f"if({hosts})return 'PROXY 127.0.0.1:{proxy_port}';return 'DIRECT';}}"
    )
    prefs = {
        "network.proxy.type": 2,
        "network.proxy.autoconfig_url": pac,
        "browser.download.folderList": 2,
        "browser.download.dir": str(downloads),
        "browser.download.useDownloadDir": True,
        "browser.download.always_ask_before_handling_new_types": False,
        "browser.download.alwaysOpenPanel": False,
        "extensions.originControls.grantByDefault": True,
        "extensions.webextensions.uuids": json.dumps({"dsexport@dsexport.org": EXTENSION_UUID}),
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "devtools.console.stdout.chrome": True,
        "devtools.console.stdout.content": True,
    }
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())
    )


class BidiError(RuntimeError):
    pass


class Firefox:
    """``firefox-esr -headless`` in its own process group, with a BiDi session."""

    def __init__(
        self,
        executable: str,
        profile: Path,
        env: dict[str, str],
        log: Path,
        *,
        headless: bool = True,
    ):
        self.log_path = log
        self._log = open(log, "w+")  # noqa: SIM115  (closed in close())
        # System access lets BiDi open extension pages (navigating a tab to a moz-extension://
        # URL is refused otherwise); only this throw-away profile ever has it.
        self.proc = subprocess.Popen(
            [
                executable,
                *(["-headless"] if headless else []),
                "-no-remote",
                "-profile",
                str(profile),
                "--remote-debugging-port",
                "0",
                "--remote-allow-system-access",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and url is None:
            self._log.seek(0)
            match = re.search(r"WebDriver BiDi listening on (ws://\S+)", self._log.read())
            if match:
                url = match.group(1) + "/session"
            elif self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if url is None:
            self.close()
            msg = f"Firefox did not start its BiDi server; see {log}"
            raise BidiError(msg)
        self.ws = WebSocket.connect(url)
        self._n = 0
        self.cmd("session.new", capabilities={"alwaysMatch": {"acceptInsecureCerts": True}})
        self.context = self.cmd("browsingContext.getTree")["contexts"][0]["context"]

    def cmd(self, method: str, timeout: float = 60, **params):
        self._n += 1
        ident = self._n
        self.ws.send_text(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = f"{method}: no answer within {timeout} s"
                raise BidiError(msg)
            reply = json.loads(self.ws.recv_text(timeout=left))
            if reply.get("id") == ident:
                if reply.get("type") == "error":
                    msg = f"{method}: {reply.get('error')}: {reply.get('message')}"
                    raise BidiError(msg)
                return reply["result"]

    def new_tab(self, url: str) -> str:
        context = self.cmd("browsingContext.create", type="tab")["context"]
        self.cmd("browsingContext.navigate", context=context, url=url, wait="complete")
        return context

    def open_privileged_tab(self, url: str, timeout: float = 20) -> str:
        """A tab on ``url`` opened by the browser UI itself (for moz-extension:// pages)."""
        tree = self.cmd("browsingContext.getTree", **{"moz:scope": "chrome"})
        chrome = tree["contexts"][0]["context"]
        before = {c["context"] for c in self.cmd("browsingContext.getTree")["contexts"]}
        self.cmd(
            "script.evaluate",
            expression=(
                f"gBrowser.addTab({json.dumps(url)}, {{triggeringPrincipal: "
                "Services.scriptSecurityManager.getSystemPrincipal()}) && 'ok'"
            ),
            target={"context": chrome},
            awaitPromise=False,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for c in self.cmd("browsingContext.getTree")["contexts"]:
                if c["context"] not in before and c["url"] == url:
                    return c["context"]
            time.sleep(0.1)
        msg = f"could not open {url}"
        raise BidiError(msg)

    def evaluate(self, context: str, expression: str, timeout: float = 120):
        """An expression (awaited) in a tab; its JSON-serialisable value."""
        wrapped = f"(async () => JSON.stringify(await ({expression})))()"
        result = self.cmd(
            "script.evaluate",
            timeout=timeout,
            expression=wrapped,
            target={"context": context},
            awaitPromise=True,
        )
        if result.get("type") == "exception":
            details = result.get("exceptionDetails", {})
            msg = f"{details.get('text')}: {expression[:200]}"
            raise BidiError(msg)
        value = result["result"]
        return json.loads(value["value"]) if value.get("type") == "string" else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cmd("session.end", timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # only the group we started
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()
